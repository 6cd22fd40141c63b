// The ablation's injection (ReFree-S2V table "Without multi-headed FiLM (cross-attention)"): windowed
// cross-attention as in FantasyTalking / InfiniteTalk (wan2.2-ti2v-5b.md §5). Per latent frame f, the S
// video tokens of f attend to the W speech window tokens of f only:
//
//   q = RMSNorm(q(LN(x_f))),  k = RMSNorm(k(T_f)),  v = v(T_f)        T_f [W, D]: f's window tokens
//   x_f ← x_f + o(Attention(q, k, v))                                 o zero-initialised (identity at init)
//
// Frames become batch entries ([B·F, S, dim] against [B·F, W, dim]), so no mask is needed.
// LN has no affine (as the DiT's own pre-norms); q/k RMSNorm follow Wan's cross-attention.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import type { AttentionImpl } from '../../graph/ops/attention.js';
import { attention } from '../../graph/ops/attention.js';
import { add } from '../../graph/ops/elementwise.js';
import { linear } from '../../graph/ops/matmul.js';
import { layerNorm, rmsNorm } from '../../graph/ops/normalization.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { FrameLayout } from './film.js';

export interface CrossAttnParams {
  param(name: 'q.weight' | 'q.bias' | 'k.weight' | 'k.bias' | 'v.weight' | 'v.bias' | 'o.weight' | 'o.bias' | 'norm_q.weight' | 'norm_k.weight'): Tensor;
}

export interface CrossAttnOptions {
  heads: number;
  eps: number;
  /** 'naive' (default; differentiable) or 'blockwise' / 'fused' (see ops/attention.ts). */
  attention?: AttentionImpl;
}

/** x [B, F·S, dim], tokens [B, F, W, D] → [B, F·S, dim]. */
export function crossAttentionInject(x: Tensor, tokens: Tensor, p: CrossAttnParams, o: CrossAttnOptions, layout: FrameLayout): Tensor {
  const [B, Ltok, dim] = x.shape as [number, number, number];
  const { frames: F, tokensPerFrame: S } = layout;
  if (x.rank !== 3 || Ltok !== F * S) throw new ShapeError('SpeechCrossAttention', [x.shape, tokens.shape], `x must be [batch, frames·tokensPerFrame = ${F}·${S}, dim]`);
  if (tokens.rank !== 4 || tokens.shape[0] !== B || tokens.shape[1] !== F) {
    throw new ShapeError('SpeechCrossAttention', [x.shape, tokens.shape], `speech window tokens must be [${B}, ${F} latent frames, W, D]`);
  }
  if (dim % o.heads !== 0) throw new ShapeError('SpeechCrossAttention', [x.shape], `dim ${dim} is not divisible by ${o.heads} heads`);
  const [, , W, D] = tokens.shape as [number, number, number, number];
  const hd = dim / o.heads;
  const toHeads = (t: Tensor, n: number): Tensor => transpose(reshape(t, [B * F, n, o.heads, hd]), [0, 2, 1, 3]);
  const xf = reshape(layerNorm(x, null, null, { eps: o.eps }), [B * F, S, dim]);
  const tf = reshape(tokens, [B * F, W, D]);
  const q = rmsNorm(linear(xf, p.param('q.weight'), p.param('q.bias')), p.param('norm_q.weight'), { eps: o.eps });
  const k = rmsNorm(linear(tf, p.param('k.weight'), p.param('k.bias')), p.param('norm_k.weight'), { eps: o.eps });
  const v = linear(tf, p.param('v.weight'), p.param('v.bias'));
  const a = attention(toHeads(q, S), toHeads(k, W), toHeads(v, W), { impl: o.attention ?? 'naive' }); // [B·F, H, S, hd]
  const merged = reshape(transpose(a, [0, 2, 1, 3]), [B, F * S, dim]);
  return add(x, linear(merged, p.param('o.weight'), p.param('o.bias')));
}
