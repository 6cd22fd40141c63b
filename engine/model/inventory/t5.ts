// umT5-XXL encoder (W22 t5.py, T5Encoder) parameters by official name (wan2.2-ti2v-5b.md §3):
// no biases, T5 RMS norms, gated-GELU FFN, a relative position bias per layer.
import type { T5Config } from '../config.js';
import type { ParamSpec } from './types.js';

export function t5Params(c: T5Config): ParamSpec[] {
  const s: ParamSpec[] = [{ name: 'token_embedding.weight', shape: [c.vocab, c.dim] }];
  for (let i = 0; i < c.layers; i++) {
    const b = `blocks.${i}`;
    s.push(
      { name: `${b}.norm1.weight`, shape: [c.dim] },
      ...['q', 'k', 'v', 'o'].map((n) => ({ name: `${b}.attn.${n}.weight`, shape: [c.dim, c.dim] })),
      { name: `${b}.norm2.weight`, shape: [c.dim] },
      { name: `${b}.ffn.gate.0.weight`, shape: [c.ffnDim, c.dim] },
      { name: `${b}.ffn.fc1.weight`, shape: [c.ffnDim, c.dim] },
      { name: `${b}.ffn.fc2.weight`, shape: [c.dim, c.ffnDim] },
      { name: `${b}.pos_embedding.embedding.weight`, shape: [c.numBuckets, c.heads] },
    );
  }
  s.push({ name: 'norm.weight', shape: [c.dim] });
  return s;
}
