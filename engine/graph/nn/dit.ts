// A DiT-like block with the structure of Wan2.2's WanAttentionBlock (reference/wan2.2-ti2v-5b.md §1.3),
// for tests and benchmarks at any width. It is not the Wan model (no RoPE, no embeddings or head);
// the real model is built elsewhere, from the same layers.
//
//   (s1, c1, g1, s2, c2, g2) = modulation + e0            e0: [B, 6, dim] from the conditioning vector
//   x = x + g1 · SelfAttn(LN(x)·(1 + c1) + s1)            q/k RMSNorm over the full width
//   x = x + CrossAttn(norm3(x), context)                  norm3: affine LN; not modulated, not gated
//   x = x + g2 · FFN(LN(x)·(1 + c2) + s2)                 Linear → GELU(tanh) → Linear
//
// Parameter names match the Wan state dict (blocks.{i}.self_attn.q.weight, ...), so LoRA adapters get
// DiffSynth-compatible names.
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { normalInit } from '../params.js';
import type { AttentionImpl } from '../ops/attention.js';
import { add, mul } from '../ops/elementwise.js';
import { silu } from '../ops/activations.js';
import { layerNorm } from '../ops/normalization.js';
import { reshape } from '../ops/shape.js';
import { split } from '../ops/indexing.js';
import type { Weights } from './lora.js';
import { loraLinear } from './lora.js';
import { attentionFlops, attentionLayer } from './attention.js';
import { affineLayerNorm, mlp } from './transformer.js';

export interface DitConfig {
  dim: number;
  heads: number;
  ffnDim: number;
  layers: number;
  /** Context (text) width after its embedding; Wan embeds text to `dim`. */
  contextDim?: number;
  eps?: number;
  /** Self-attention form; cross-attention (short context) always uses the same unless 'blockwise'. */
  impl?: AttentionImpl;
  blockSize?: number;
}

/** The Wan 5B block shapes (reference §1.1). */
export const WAN_5B_DIT: DitConfig = { dim: 3072, heads: 24, ffnDim: 14336, layers: 30, contextDim: 3072, eps: 1e-6 };

/** The linears DiffSynth's Wan LoRA targets: self/cross-attention q, k, v, o and both FFN linears. */
export const WAN_LORA_TARGETS = (name: string): boolean => /\.(self_attn|cross_attn)\.[qkvo]$|\.ffn\.[02]$/.test(name);

/** LN(x)·(1 + scale) + shift, LN without affine (Wan's norm1/norm2). */
function modulate(x: Tensor, shift: Tensor, scale: Tensor, eps: number): Tensor {
  return add(mul(layerNorm(x, null, null, { eps }), add(scale, 1)), shift);
}

/**
 * One block. x [B, L, dim] with e0 [B, 6, dim] and context [B, Lc, contextDim]; or, for batch 1,
 * token-major x [L, dim] with e0 [6, dim] and context [Lc, contextDim] (fewer nodes, see ditStack).
 */
export function ditBlock(w: Weights, name: string, x: Tensor, e0: Tensor, context: Tensor, cfg: DitConfig): Tensor {
  const { dim, heads } = cfg;
  const eps = cfg.eps ?? 1e-6;
  if ((x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 1] !== dim) throw new ShapeError('DitBlock', [x.shape], `${name}: x must be [batch, tokens, ${dim}] or [tokens, ${dim}]`);
  const e0Shape = x.rank === 3 ? [x.shape[0]!, 6, dim] : [6, dim];
  if (e0.rank !== e0Shape.length || e0.shape.some((d, i) => d !== e0Shape[i])) throw new ShapeError('DitBlock', [x.shape, e0.shape], `${name}: e0 must be [${e0Shape.join(', ')}]`);
  let modulation = w.frozen.param(`${name}.modulation`, [1, 6, dim], normalInit(1 / Math.sqrt(dim)));
  if (x.rank === 2) modulation = reshape(modulation, [6, dim]);
  // Pieces are [B, 1, dim] (3-D) or [1, dim] (2-D): both broadcast over the tokens.
  const [s1, c1, g1, s2, c2, g2] = split(add(modulation, e0), [1, 1, 1, 1, 1, 1], x.rank - 2) as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  // Cross-attention over a short context gains nothing from blocks; keep it naive unless fused.
  const crossImpl: AttentionImpl = cfg.impl === 'fused' ? 'fused' : 'naive';
  const attnCfg = { dim, heads, qkNorm: true, eps, impl: cfg.impl, blockSize: cfg.blockSize };

  let h = add(x, mul(attentionLayer(w, `${name}.self_attn`, modulate(x, s1, c1, eps), null, attnCfg), g1));
  h = add(h, attentionLayer(w, `${name}.cross_attn`, affineLayerNorm(w, `${name}.norm3`, h, dim, eps), context, { ...attnCfg, impl: crossImpl, contextDim: cfg.contextDim ?? dim }));
  return add(h, mul(mlp(w, `${name}.ffn`, modulate(h, s2, c2, eps), dim, cfg.ffnDim), g2));
}

/** Wan's time_projection: SiLU → Linear(dim → 6·dim), reshaped to e0 [B, 6, dim]. cond is [B, dim]. */
export function timeProjection(w: Weights, cond: Tensor, dim: number): Tensor {
  if (cond.rank !== 2 || cond.shape[1] !== dim) throw new ShapeError('TimeProjection', [cond.shape], `conditioning vector must be [batch, ${dim}]`);
  return reshape(loraLinear(w, 'time_projection.1', silu(cond), dim, 6 * dim), [cond.shape[0]!, 6, dim]);
}

/**
 * x [B, L, dim], cond [B, dim], context [B, Lc, contextDim] → [B, L, dim]: e0 from cond, then
 * `layers` blocks named blocks.<i>. With batch 1 the blocks run on token-major 2-D tensors, which
 * saves two Reshapes per linear in the forward and two in the backward.
 */
export function ditStack(w: Weights, x: Tensor, cond: Tensor, context: Tensor, cfg: DitConfig): Tensor {
  if (x.rank !== 3 || context.rank !== 3) throw new ShapeError('DitStack', [x.shape, context.shape], 'x and context must be [batch, tokens, features]');
  const e0 = timeProjection(w, cond, cfg.dim);
  const single = x.shape[0] === 1;
  let h = single ? reshape(x, x.shape.slice(1)) : x;
  const ctx = single ? reshape(context, context.shape.slice(1)) : context;
  const e = single ? reshape(e0, [6, cfg.dim]) : e0;
  for (let i = 0; i < cfg.layers; i++) h = ditBlock(w, `blocks.${i}`, h, e, ctx, cfg);
  return single ? reshape(h, x.shape) : h;
}

/** Matmul FLOPs of ditStack's forward (projections, both attentions' products, FFN, time projection). */
export function ditFlops(batch: number, tokens: number, contextTokens: number, cfg: DitConfig): number {
  const { dim } = cfg;
  const perBlock = attentionFlops(batch, tokens, tokens, dim) + attentionFlops(batch, tokens, contextTokens, dim, cfg.contextDim ?? dim) + 2 * 2 * batch * tokens * dim * cfg.ffnDim;
  return cfg.layers * perBlock + 2 * batch * dim * 6 * dim;
}
