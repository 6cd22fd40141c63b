// Attention in three forms over q, k, v of shape [B, H, T, Dh] (non-causal, no mask):
// - attentionNaive: primitives (MatMul, Softmax); autodiff differentiates it; memory ∝ Tq·Tk.
// - attentionBlockwise: flash-style blocks with recompute in the backward, for long training
//   sequences; open its training sessions with `disableCse: true`.
// - attentionFused: one MultiHeadAttention / opset-23 Attention node, inference only (no VJP).
import type { Tensor } from '../graph.js';
import type { AttentionOptions } from './attention-naive.js';
import { attentionNaive } from './attention-naive.js';
import { attentionBlockwise } from './attention-blockwise.js';
import { attentionFused } from './attention-fused.js';

export * from './attention-naive.js';
export * from './attention-blockwise.js';
export * from './attention-fused.js';

export type AttentionImpl = 'naive' | 'blockwise' | 'fused';

/** Picks one of the three forms; model code chooses per graph (training vs inference, length). */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { impl?: AttentionImpl; blockSize?: number; kernel?: 'mha' | 'onnx' } = {}): Tensor {
  switch (opts.impl ?? 'naive') {
    case 'naive':
      return attentionNaive(q, k, v, opts);
    case 'blockwise':
      return attentionBlockwise(q, k, v, opts);
    case 'fused':
      return attentionFused(q, k, v, opts);
  }
}
