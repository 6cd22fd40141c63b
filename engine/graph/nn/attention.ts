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

/** [B, T, H·Dh] → [B, H, T, Dh]; a 2-D [T, H·Dh] is batch 1. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, d] = (x.rank === 2 ? [1, ...x.shape] : x.shape) as [number, number, number];
  return transpose(reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, Dh] → [B, T, H·Dh], or [T, H·Dh] when `rank` is 2. */
export function mergeHeads(x: Tensor, rank: 2 | 3 = 3): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return reshape(transpose(x, [0, 2, 1, 3]), rank === 2 ? [t, h * d] : [b, t, h * d]);
}

/**
 * x [B, T, dim] attends to itself (context null) or to context [B, Tc, contextDim]. Token-major 2-D
 * tensors ([T, dim], [Tc, contextDim]) mean batch 1: the projections then need no Reshape around
 * their Gemms, which keeps deep training graphs smaller.
 */
export function attentionLayer(w: Weights, name: string, x: Tensor, context: Tensor | null, cfg: AttentionLayerConfig): Tensor {
  const { dim, heads } = cfg;
  if ((x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 1] !== dim) throw new ShapeError('AttentionLayer', [x.shape], `${name}: x must be [batch, tokens, ${dim}] or [tokens, ${dim}]`);
  if (dim % heads !== 0) throw new ShapeError('AttentionLayer', [x.shape], `${name}: dim ${dim} is not divisible by ${heads} heads`);
  const kvIn = context ?? x;
  const kvDim = context ? (cfg.contextDim ?? dim) : dim;
  if (kvIn.rank !== x.rank || kvIn.shape[kvIn.rank - 1] !== kvDim || (x.rank === 3 && kvIn.shape[0] !== x.shape[0])) {
    throw new ShapeError('AttentionLayer', [x.shape, kvIn.shape], `${name}: context must have x's batch and rank, and ${kvDim} features`);
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
  let o: Tensor;
  if (impl === 'fused') {
    // The fused kernel takes packed heads directly, so no split/merge transposes.
    const packed = (t: Tensor): Tensor => (t.rank === 3 ? t : reshape(t, [1, ...t.shape]));
    o = multiHeadAttention(packed(q), packed(k), packed(v), heads);
    if (x.rank === 2) o = reshape(o, x.shape);
  } else {
    o = mergeHeads(attention(splitHeads(q, heads), splitHeads(k, heads), splitHeads(v, heads), { impl, blockSize: cfg.blockSize }), x.rank as 2 | 3);
  }
  return loraLinear(w, `${name}.o`, o, dim, dim);
}

/** Matmul FLOPs of one attention layer (projections + the two attention products), for benchmarks. */
export function attentionFlops(batch: number, tq: number, tk: number, dim: number, contextDim = dim): number {
  const proj = 2 * batch * (tq * dim * dim * 2 + tk * contextDim * dim * 2);
  const attn = 2 * 2 * batch * tq * tk * dim;
  return proj + attn;
}
