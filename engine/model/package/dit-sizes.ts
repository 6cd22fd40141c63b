// The sizes a DiT checkpoint has, read from its tensor shapes, so an import whose files are another
// size than the architecture can say so in one sentence ("dim 48 where wan2.2-ti2v-5b has 3072")
// instead of listing every misshapen tensor. The head count is not visible in any shape; it comes
// only from a config (--arch).
import type { DitConfig } from '../config.js';
import type { WeightIndex } from './weight-index.js';

export interface DitSizes {
  dim?: number;
  layers?: number;
  ffnDim?: number;
  inDim?: number;
  outDim?: number;
  textDim?: number;
  freqDim?: number;
}

const LABEL: Readonly<Record<keyof DitSizes, string>> = {
  dim: 'dim',
  layers: 'blocks',
  ffnDim: 'ffn_dim',
  inDim: 'in_dim',
  outDim: 'out_dim',
  textDim: 'text_dim',
  freqDim: 'freq_dim',
};

/** Sizes read from the DiT files' shapes (original or Diffusers names, any ComfyUI prefix). */
export function ditSizes(idx: WeightIndex, patch: DitConfig['patch']): DitSizes {
  const shape = (...names: string[]): readonly number[] | undefined => {
    for (const n of names) {
      const s = idx.shapeOfKey(idx.prefix + n);
      if (s) return s;
    }
    return undefined;
  };
  const out: DitSizes = {};
  const pe = shape('patch_embedding.weight');
  if (pe) [out.dim, out.inDim] = [pe[0], pe[1]];
  const blocks = new Set<number>();
  for (const k of idx.keys) {
    const m = /^blocks\.(\d+)\./.exec(k.slice(idx.prefix.length));
    if (m) blocks.add(Number(m[1]));
  }
  if (blocks.size) out.layers = Math.max(...blocks) + 1;
  const ffn = shape('blocks.0.ffn.0.weight', 'blocks.0.ffn.net.0.proj.weight');
  if (ffn) out.ffnDim = ffn[0];
  const text = shape('text_embedding.0.weight', 'condition_embedder.text_embedder.linear_1.weight');
  if (text) out.textDim = text[1];
  const time = shape('time_embedding.0.weight', 'condition_embedder.time_embedder.linear_1.weight');
  if (time) out.freqDim = time[1];
  const head = shape('head.head.weight', 'proj_out.weight');
  const cells = patch[0] * patch[1] * patch[2];
  if (head && head[0]! % cells === 0) out.outDim = head[0]! / cells;
  return out;
}

/** "dim 48 and 2 blocks" / "dim 3072 and 30 blocks" for the sizes that differ, or null when none does. */
export function sizeDifference(files: DitSizes, arch: DitConfig): { files: string; arch: string } | null {
  const diff = (Object.keys(LABEL) as (keyof DitSizes)[]).filter((k) => files[k] !== undefined && files[k] !== arch[k]);
  if (!diff.length) return null;
  const say = (get: (k: keyof DitSizes) => number | undefined) => {
    const parts = diff.map((k) => (k === 'layers' ? `${get(k)} blocks` : `${LABEL[k]} ${get(k)}`));
    return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  };
  return { files: say((k) => files[k]), arch: say((k) => arch[k]) };
}
