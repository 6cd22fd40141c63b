// Multi-head attention as a layer: q/k/v/o projections (each a LoRA-able linear), optional q/k RMSNorm
// over the full width (Wan's qk_norm), and one of the attention op forms from ops/attention.ts.
// Self-attention passes context = null; cross-attention passes the context tokens.
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { onesInit } from '../params.js';
import type { AttentionImpl } from '../ops/attention.js';
import { attention, multiHeadAttention } from '../ops/attention.js';
import { rmsNorm } from '../ops/normalization.js';
import { reshape, transpose } from '../ops/shape.js';
import type { Weights } from './lora.js';
import { loraLinear } from './lora.js';

export interface AttentionLayerConfig {
  dim: number;
  heads: number;
  /** Width of the context tokens (cross-attention); defaults to dim. */
  contextDim?: number;
  /** RMSNorm (with weight) on q and k over the full width, before splitting heads. */
  qkNorm?: boolean;
  eps?: number;
  /** 'naive' and 'blockwise' are differentiable; 'fused' is for inference graphs. */
  impl?: AttentionImpl;
  blockSize?: number;
}

/** [B, T, H·Dh] → [B, H, T, Dh] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, d] = x.shape as [number, number, number];
  return transpose(reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, Dh] → [B, T, H·Dh] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return reshape(transpose(x, [0, 2, 1, 3]), [b, t, h * d]);
}

/** x [B, T, dim] attends to itself (context null) or to context [B, Tc, contextDim]. */
export function attentionLayer(w: Weights, name: string, x: Tensor, context: Tensor | null, cfg: AttentionLayerConfig): Tensor {
  const { dim, heads } = cfg;
  if (x.rank !== 3 || x.shape[2] !== dim) throw new ShapeError('AttentionLayer', [x.shape], `${name}: x must be [batch, tokens, ${dim}]`);
  if (dim % heads !== 0) throw new ShapeError('AttentionLayer', [x.shape], `${name}: dim ${dim} is not divisible by ${heads} heads`);
  const kvIn = context ?? x;
  const kvDim = context ? (cfg.contextDim ?? dim) : dim;
  if (kvIn.rank !== 3 || kvIn.shape[2] !== kvDim || kvIn.shape[0] !== x.shape[0]) {
    throw new ShapeError('AttentionLayer', [x.shape, kvIn.shape], `${name}: context must be [${x.shape[0]}, tokens, ${kvDim}]`);
  }
  let q = loraLinear(w, `${name}.q`, x, dim, dim);
  let k = loraLinear(w, `${name}.k`, kvIn, kvDim, dim);
  const v = loraLinear(w, `${name}.v`, kvIn, kvDim, dim);
  if (cfg.qkNorm) {
    const eps = cfg.eps ?? 1e-6;
    q = rmsNorm(q, w.frozen.param(`${name}.norm_q.weight`, [dim], onesInit), { eps });
    k = rmsNorm(k, w.frozen.param(`${name}.norm_k.weight`, [dim], onesInit), { eps });
  }
  const impl = cfg.impl ?? 'naive';
  // The fused kernel takes packed heads directly, so skip the split/merge transposes there.
  const o = impl === 'fused' ? multiHeadAttention(q, k, v, heads) : mergeHeads(attention(splitHeads(q, heads), splitHeads(k, heads), splitHeads(v, heads), { impl, blockSize: cfg.blockSize }));
  return loraLinear(w, `${name}.o`, o, dim, dim);
}

/** Matmul FLOPs of one attention layer (projections + the two attention products), for benchmarks. */
export function attentionFlops(batch: number, tq: number, tk: number, dim: number, contextDim = dim): number {
  const proj = 2 * batch * (tq * dim * dim * 2 + tk * contextDim * dim * 2);
  const attn = 2 * 2 * batch * tq * tk * dim;
  return proj + attn;
}
