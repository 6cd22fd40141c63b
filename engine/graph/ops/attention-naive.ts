// Scaled dot-product attention from primitives: softmax(s·Q Kᵀ) V over [B, H, T, Dh] tensors.
// This is the reference form: autodiff differentiates it op by op, so its backward keeps the whole
// [B, H, Tq, Tk] probability matrix alive (fine for short sequences, ∝ T² memory for long ones; see
// attention-blockwise.ts for the long-sequence training form).
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { matmul } from './matmul.js';
import { mul } from './elementwise.js';
import { transposeLast2 } from './shape.js';
import { softmax } from './normalization.js';

export interface AttentionOptions {
  /** Multiplies the logits; defaults to 1/sqrt(Dh). */
  scale?: number;
}

export interface AttentionDims {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  dh: number;
  dv: number;
  scale: number;
}

/** What the checks need of a tensor (fused MHA passes its split-head view of 3-D shapes). */
export type AttentionShapeSpec = Pick<Tensor, 'shape' | 'dtype'>;

/**
 * Checks q [B,H,Tq,Dh], k [B,H,Tk,Dh], v [B,H,Tk,Dv] (same dtype) and resolves the scale. Every
 * attention form calls it, so all three fail the same way at build time.
 */
export function checkAttention(op: string, q: AttentionShapeSpec, k: AttentionShapeSpec, v: AttentionShapeSpec, scale?: number): AttentionDims {
  const shapes = [q.shape, k.shape, v.shape];
  if (shapes.some((s) => s.length !== 4)) throw new ShapeError(op, shapes, 'q, k and v must be [batch, heads, tokens, head_dim]');
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) throw new ShapeError(op, shapes, `dtype mismatch ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const [batch, heads, tq, dh] = q.shape as [number, number, number, number];
  const [kb, kh, tk, kd] = k.shape as [number, number, number, number];
  const [vb, vh, vt, dv] = v.shape as [number, number, number, number];
  if (kb !== batch || vb !== batch) throw new ShapeError(op, shapes, `batch sizes differ (${batch}, ${kb}, ${vb})`);
  if (kh !== heads || vh !== heads) throw new ShapeError(op, shapes, `head counts differ (${heads}, ${kh}, ${vh})`);
  if (kd !== dh) throw new ShapeError(op, shapes, `q and k head dims differ (${dh} vs ${kd})`);
  if (vt !== tk) throw new ShapeError(op, shapes, `k and v lengths differ (${tk} vs ${vt})`);
  if (tq === 0 || tk === 0 || dh === 0) throw new ShapeError(op, shapes, 'empty query, key or head axis');
  const s = scale ?? 1 / Math.sqrt(dh);
  if (!Number.isFinite(s)) throw new ShapeError(op, shapes, `scale ${s} is not finite`);
  return { batch, heads, tq, tk, dh, dv, scale: s };
}

/** softmax(scale · q kᵀ) v, written with MatMul, Mul and Softmax so every step has a VJP. */
export function attentionNaive(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { scale } = checkAttention('Attention', q, k, v, opts.scale);
  // Scaling q (Tq·Dh values) instead of the logits (Tq·Tk values) is the same product, one T² pass less.
  const logits = matmul(mul(q, scale), transposeLast2(k));
  return matmul(softmax(logits, -1), v);
}
