// One WanAttentionBlock (wan2.2-ti2v-5b.md §1.3), with per-frame modulation:
//
//   (s1, c1, g1, s2, c2, g2) = blocks.i.modulation + e0        e0 [B, F, 6, dim]; chunk order as listed
//   x = x + g1 · SelfAttn(LN(x)·(1 + c1) + s1)                  LN: no affine, eps; q/k RMSNorm over dim; 3D RoPE
//   x = x + CrossAttn(norm3(x), ctx)                            norm3: affine LN; no modulation, no gate, no RoPE
//   x = x + g2 · FFN(LN(x)·(1 + c2) + s2)                       Linear → GELU(tanh) → Linear
//
// Inside the block x is kept as [B, F, S, dim] (S = h·w tokens per frame) so that the per-frame
// modulation [B, F, 1, dim] broadcasts over each frame's tokens; attention sees [B, L, dim], L = F·S
// (a Reshape, no data movement). The speech-injection hook gets [B, L, dim] at a configurable point.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import type { AttentionImpl } from '../../graph/ops/attention.js';
import { attention, multiHeadAttention } from '../../graph/ops/attention.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import { geluFused } from '../../graph/ops/activations.js';
import { split } from '../../graph/ops/indexing.js';
import { layerNorm, rmsNorm } from '../../graph/ops/normalization.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { LatentGrid } from './rope.js';
import { applyRope } from './rope.js';
import type { DitWeights } from './weights.js';

/**
 * Where in each block the speech-injection hook runs:
 * - 'after_self_attn' (default): after x += g1·SelfAttn, before the text cross-attention. The speech
 *   update then feeds this block's text cross-attention and FFN, the same "condition early in the
 *   block" position the modulation has; ReFree-S2V does not state the position, so it is an option.
 * - 'after_cross_attn': after the text cross-attention, before the FFN (InfiniteTalk's audio position).
 * - 'after_ffn': at the end of the block (Wan2.2-S2V's after_transformer_block position).
 */
export type InjectPoint = 'after_self_attn' | 'after_cross_attn' | 'after_ffn';

export interface InjectContext {
  weights: DitWeights;
  batch: number;
  grid: LatentGrid;
  /** h·w: tokens of one latent frame are the consecutive run [f·S, (f+1)·S). */
  tokensPerFrame: number;
  dim: number;
  heads: number;
  /** The per-frame time embedding [B, F, dim] (time_embedding's output), for timestep-aware injection. */
  e: Tensor;
  point: InjectPoint;
}

/** Returns the new hidden state [B, L, dim] (e.g. x + FiLM(x, speech)); return x to leave a block alone. */
export type InjectHook = (blockIndex: number, x: Tensor, ctx: InjectContext) => Tensor;

export interface BlockRuntime {
  grid: LatentGrid;
  heads: number;
  eps: number;
  selfAttention: AttentionImpl;
  crossAttention: AttentionImpl;
  blockSize?: number;
  ropeTheta: number;
  inject?: InjectHook;
  injectAt: InjectPoint;
  injectContext: InjectContext;
}

/** softmax(QKᵀ/√d)V over packed heads: q [B, Tq, dim], k/v [B, Tk, dim] → [B, Tq, dim]. */
export function attend(q: Tensor, k: Tensor, v: Tensor, heads: number, impl: AttentionImpl, blockSize?: number): Tensor {
  if (impl === 'fused') return multiHeadAttention(q, k, v, heads);
  const toHeads = (t: Tensor): Tensor => {
    const [b, n, d] = t.shape as [number, number, number];
    return transpose(reshape(t, [b, n, heads, d / heads]), [0, 2, 1, 3]);
  };
  const o = attention(toHeads(q), toHeads(k), toHeads(v), { impl, blockSize });
  const [b, h, n, d] = o.shape as [number, number, number, number];
  return reshape(transpose(o, [0, 2, 1, 3]), [b, n, h * d]);
}

/** LN(x)·(1 + scale) + shift; x [B, F, S, dim], shift/scale [B, F, 1, dim]. */
function modulate(x: Tensor, shift: Tensor, scale: Tensor, eps: number): Tensor {
  return add(mul(layerNorm(x, null, null, { eps }), add(scale, 1)), shift);
}

/** x [B, F, S, dim] → [B, F, S, dim]; e0 [B, F, 6, dim]; context (embedded) [B, textLen, dim]. */
export function ditBlock(w: DitWeights, index: number, x: Tensor, e0: Tensor, context: Tensor, rt: BlockRuntime): Tensor {
  const p = `blocks.${index}`;
  const [B, F, S, dim] = x.shape as [number, number, number, number];
  const L = F * S;
  const flat = (t: Tensor): Tensor => reshape(t, [B, L, dim]);
  const grid = (t: Tensor): Tensor => reshape(t, [B, F, S, dim]);
  const inject = (point: InjectPoint, h: Tensor): Tensor => {
    if (!rt.inject || rt.injectAt !== point) return h;
    const out = rt.inject(index, flat(h), rt.injectContext);
    if (out.rank !== 3 || out.shape[0] !== B || out.shape[1] !== L || out.shape[2] !== dim) {
      throw new ShapeError('InjectHook', [[B, L, dim], out.shape], `${p}: the injection hook must return the hidden state [${B},${L},${dim}]`);
    }
    return grid(out);
  };

  return w.graph.scope(p, () => {
    const mod = add(w.param(`${p}.modulation`), e0); // [1,6,dim] + [B,F,6,dim] in the activation dtype
    const [s1, c1, g1, s2, c2, g2] = split(mod, [1, 1, 1, 1, 1, 1], 2) as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];

    // Self-attention: q/k RMSNorm over the full dim BEFORE the head split, then RoPE per head.
    const h1 = flat(modulate(x, s1, c1, rt.eps));
    const q = applyRope(rmsNorm(w.linear(`${p}.self_attn.q`, h1), w.param(`${p}.self_attn.norm_q.weight`), { eps: rt.eps }), rt.grid, rt.heads, rt.ropeTheta);
    const k = applyRope(rmsNorm(w.linear(`${p}.self_attn.k`, h1), w.param(`${p}.self_attn.norm_k.weight`), { eps: rt.eps }), rt.grid, rt.heads, rt.ropeTheta);
    const v = w.linear(`${p}.self_attn.v`, h1);
    const sa = w.linear(`${p}.self_attn.o`, attend(q, k, v, rt.heads, rt.selfAttention, rt.blockSize));
    let h = inject('after_self_attn', add(x, mul(grid(sa), g1)));

    // Cross-attention over every context row (padding rows included), ungated.
    const n3 = flat(layerNorm(h, w.param(`${p}.norm3.weight`), w.param(`${p}.norm3.bias`), { eps: rt.eps }));
    const cq = rmsNorm(w.linear(`${p}.cross_attn.q`, n3), w.param(`${p}.cross_attn.norm_q.weight`), { eps: rt.eps });
    const ck = rmsNorm(w.linear(`${p}.cross_attn.k`, context), w.param(`${p}.cross_attn.norm_k.weight`), { eps: rt.eps });
    const cv = w.linear(`${p}.cross_attn.v`, context);
    const ca = w.linear(`${p}.cross_attn.o`, attend(cq, ck, cv, rt.heads, rt.crossAttention, rt.blockSize));
    h = inject('after_cross_attn', add(h, grid(ca)));

    // FFN, gated.
    const ff = w.linear(`${p}.ffn.2`, geluFused(w.linear(`${p}.ffn.0`, modulate(h, s2, c2, rt.eps)), 'tanh'));
    return inject('after_ffn', add(h, mul(ff, g2)));
  });
}
