// Which Wan component a weights file holds, from its tensor names alone (headers only: the safetensors
// JSON header or the .pth pickle). Used where file names say nothing reliable: a ComfyUI models folder,
// a VAE saved as safetensors under any name, `refree models create` checking each file is what the
// option says. Every spelling the key maps read is recognised (official, Diffusers / HF, wrappers).
import { PthFile } from '../weights/pth.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import type { FileFormat } from './manifest.js';

export type WeightsKind = 'dit' | 'vae' | 't5';

// Tensors that only one component has, in each spelling (matched after any wrapper prefix).
const SIGNATURES: readonly [WeightsKind, RegExp][] = [
  ['dit', /(^|\.)blocks\.\d+\.(self_attn|attn1)\.(q|to_q)\.weight$/],
  ['dit', /(^|\.)(time_projection\.1|condition_embedder\.time_proj)\.weight$/],
  ['vae', /(^|\.)(encoder|decoder)\.(conv1|conv_in)\.weight$/],
  ['vae', /(^|\.)(encoder|decoder)\.(middle|mid_block)\./],
  ['t5', /(^|\.)blocks\.\d+\.attn\.q\.weight$/],
  ['t5', /(^|\.)encoder\.block\.\d+\.layer\.0\.SelfAttention\.q\.weight$/],
  ['t5', /(^|\.)(token_embedding|shared)\.weight$/],
];

/** The component most of the signature keys point to, or null. */
export function classifyKeys(keys: Iterable<string>): WeightsKind | null {
  const votes: Record<WeightsKind, number> = { dit: 0, vae: 0, t5: 0 };
  for (const k of keys) {
    for (const [kind, re] of SIGNATURES) {
      if (re.test(k)) {
        votes[kind]++;
        break;
      }
    }
  }
  const ranked = (Object.entries(votes) as [WeightsKind, number][]).sort((a, b) => b[1] - a[1]);
  return ranked[0]![1] > 0 ? ranked[0]![0] : null;
}

/** The weights format of a file by its extension, or null. */
export function weightsFormat(file: string): Extract<FileFormat, 'safetensors' | 'pth'> | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.pth') || lower.endsWith('.pt') || lower.endsWith('.ckpt') || lower.endsWith('.bin')) return 'pth';
  return null;
}

/** The tensor names in a weights file (headers only). */
export async function weightKeys(file: string, format: 'safetensors' | 'pth'): Promise<string[]> {
  const h = format === 'safetensors' ? await SafetensorsFile.open(file) : await PthFile.open(file);
  try {
    return h.tensors().map((t) => t.name);
  } finally {
    await h.close();
  }
}

/** The component a weights file holds (null when its names are none of ours). */
export async function classifyFile(file: string, format: 'safetensors' | 'pth'): Promise<WeightsKind | null> {
  return classifyKeys(await weightKeys(file, format));
}
