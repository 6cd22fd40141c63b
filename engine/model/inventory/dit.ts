// Wan2.2 DiT (WanModel, ti2v) parameters by official name (wan2.2-ti2v-5b.md §1.6).
import type { DitConfig } from '../config.js';
import type { ParamSpec } from './types.js';
import { linearParams } from './types.js';

function attention(prefix: string, dim: number): ParamSpec[] {
  return [
    ...['q', 'k', 'v', 'o'].flatMap((n) => linearParams(`${prefix}.${n}`, dim, dim)),
    { name: `${prefix}.norm_q.weight`, shape: [dim] },
    { name: `${prefix}.norm_k.weight`, shape: [dim] },
  ];
}

export function ditParams(c: DitConfig): ParamSpec[] {
  const [pt, ph, pw] = c.patch;
  const specs: ParamSpec[] = [
    { name: 'patch_embedding.weight', shape: [c.dim, c.inDim, pt, ph, pw] },
    { name: 'patch_embedding.bias', shape: [c.dim] },
    ...linearParams('text_embedding.0', c.textDim, c.dim),
    ...linearParams('text_embedding.2', c.dim, c.dim),
    ...linearParams('time_embedding.0', c.freqDim, c.dim),
    ...linearParams('time_embedding.2', c.dim, c.dim),
    ...linearParams('time_projection.1', c.dim, 6 * c.dim),
  ];
  for (let i = 0; i < c.layers; i++) {
    const b = `blocks.${i}`;
    specs.push(
      { name: `${b}.modulation`, shape: [1, 6, c.dim] },
      ...attention(`${b}.self_attn`, c.dim),
      { name: `${b}.norm3.weight`, shape: [c.dim] },
      { name: `${b}.norm3.bias`, shape: [c.dim] },
      ...attention(`${b}.cross_attn`, c.dim),
      ...linearParams(`${b}.ffn.0`, c.dim, c.ffnDim),
      ...linearParams(`${b}.ffn.2`, c.ffnDim, c.dim),
    );
  }
  specs.push({ name: 'head.modulation', shape: [1, 2, c.dim] }, ...linearParams('head.head', c.dim, pt * ph * pw * c.outDim));
  return specs;
}
