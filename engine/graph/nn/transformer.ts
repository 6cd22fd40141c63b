// A small pre-LN transformer (attention + GELU MLP, residuals), LoRA-able through Weights. Used by the
// training tests and as a generic building block; the DiT-shaped block is in dit.ts.
import type { Tensor } from '../graph.js';
import { onesInit, zerosInit } from '../params.js';
import type { AttentionImpl } from '../ops/attention.js';
import { add } from '../ops/elementwise.js';
import { geluFused } from '../ops/activations.js';
import { layerNorm } from '../ops/normalization.js';
import type { Weights } from './lora.js';
import { loraLinear } from './lora.js';
import { attentionFlops, attentionLayer } from './attention.js';

export interface TransformerConfig {
  dim: number;
  heads: number;
  ffnDim: number;
  layers: number;
  eps?: number;
  impl?: AttentionImpl;
}

/** Affine LayerNorm with weight/bias parameters `<name>.weight`, `<name>.bias` (frozen under LoRA). */
export function affineLayerNorm(w: Weights, name: string, x: Tensor, dim: number, eps: number): Tensor {
  return layerNorm(x, w.frozen.param(`${name}.weight`, [dim], onesInit), w.frozen.param(`${name}.bias`, [dim], zerosInit), { eps });
}

/** Linear → GELU(tanh) → Linear, with PyTorch Sequential names `<name>.0` and `<name>.2`. */
export function mlp(w: Weights, name: string, x: Tensor, dim: number, ffnDim: number): Tensor {
  return loraLinear(w, `${name}.2`, geluFused(loraLinear(w, `${name}.0`, x, dim, ffnDim), 'tanh'), ffnDim, dim);
}

/** x + Attn(LN(x)); x + MLP(LN(x)). x is [B, T, dim]. */
export function transformerBlock(w: Weights, name: string, x: Tensor, cfg: TransformerConfig): Tensor {
  const eps = cfg.eps ?? 1e-5;
  const h = add(x, attentionLayer(w, `${name}.attn`, affineLayerNorm(w, `${name}.norm1`, x, cfg.dim, eps), null, { dim: cfg.dim, heads: cfg.heads, impl: cfg.impl }));
  return add(h, mlp(w, `${name}.mlp`, affineLayerNorm(w, `${name}.norm2`, h, cfg.dim, eps), cfg.dim, cfg.ffnDim));
}

/** `layers` blocks named `<prefix>.<i>`. */
export function transformerStack(w: Weights, prefix: string, x: Tensor, cfg: TransformerConfig): Tensor {
  let h = x;
  for (let i = 0; i < cfg.layers; i++) h = transformerBlock(w, `${prefix}.${i}`, h, cfg);
  return h;
}

/** Matmul FLOPs of the stack's forward (attention products included), for benchmarks. */
export function transformerFlops(batch: number, tokens: number, cfg: TransformerConfig): number {
  return cfg.layers * (attentionFlops(batch, tokens, tokens, cfg.dim) + 2 * 2 * batch * tokens * cfg.dim * cfg.ffnDim);
}
