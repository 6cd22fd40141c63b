// The DiT's conditioning embeddings (wan2.2-ti2v-5b.md §1.2).
//
// Timesteps are PER LATENT FRAME: [B, F]. Wan's forward takes per-token timesteps [B, L] and embeds
// every token, but in TI2V only two values occur and they are constant over each frame's tokens
// (frame 0 gets t = 0, the others t), so embedding per frame and broadcasting over the frame's h·w
// tokens is the same arithmetic without a [L, 6·dim] tensor (2 GB at 27k tokens for the 5B model).
// perFrameTimesteps() converts Wan's per-token form on the host.
import type { Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { ShapeError } from '../../graph/errors.js';
import { cast, cos, mul, sin } from '../../graph/ops/elementwise.js';
import { silu, geluFused } from '../../graph/ops/activations.js';
import { concat } from '../../graph/ops/indexing.js';
import { reshape, unsqueeze } from '../../graph/ops/shape.js';
import type { DitWeights } from './weights.js';
import type { LatentGrid } from './rope.js';

/** ω_k = 10000^(−k/half), k = 0..half−1, in float64 (as sinusoidal_embedding_1d computes them). */
export function sinusoidFrequencies(freqDim: number): Float64Array {
  const half = freqDim / 2;
  return Float64Array.from({ length: half }, (_, k) => Math.pow(10000, -k / half));
}

/**
 * concat(cos(t·ω), sin(t·ω)) on the last axis, cos FIRST, for raw t in [0, 1000] (not σ).
 * `precision` 'float64' computes the angles in float64 like the reference (t·ω reaches 1000 rad, so a
 * float32 product is off by up to ~1e-4 in the angle); 'compute' stays in t's dtype for execution
 * providers without float64 Sin/Cos. The result is cast to `dtype`.
 */
export function sinusoidalEmbedding(t: Tensor, freqDim: number, dtype: DType, precision: 'float64' | 'compute' = 'float64'): Tensor {
  if (freqDim % 2 !== 0) throw new ShapeError('SinusoidalEmbedding', [t.shape], `freq_dim ${freqDim} must be even`);
  const work: DType = precision === 'float64' ? 'float64' : t.dtype;
  const tw = t.dtype === work ? t : cast(t, work);
  const omega = t.graph.constant(work, [freqDim / 2], sinusoidFrequencies(freqDim));
  const angles = mul(unsqueeze(tw, [tw.rank]), omega);
  const emb = concat([cos(angles), sin(angles)], -1);
  return emb.dtype === dtype ? emb : cast(emb, dtype);
}

export interface TimeConditioning {
  /** time_embedding output [B, F, dim]: the head's modulation input (no extra SiLU). */
  e: Tensor;
  /** time_projection output as [B, F, 6, dim]: the blocks' modulation input. */
  e0: Tensor;
}

/** timesteps [B, F] → e = Linear∘SiLU∘Linear(sinusoid), e0 = Linear(SiLU(e)) per frame. */
export function timeConditioning(w: DitWeights, timesteps: Tensor, freqDim: number, dim: number, precision: 'float64' | 'compute' = 'float64'): TimeConditioning {
  const emb = sinusoidalEmbedding(timesteps, freqDim, w.dtype, precision);
  const e = w.linear('time_embedding.2', silu(w.linear('time_embedding.0', emb)));
  const proj = w.linear('time_projection.1', silu(e));
  const [B, F] = timesteps.shape as [number, number];
  return { e, e0: reshape(proj, [B, F, 6, dim]) };
}

/** context [B, textLen, textDim] → Linear → GELU(tanh) → Linear, every row (padding rows too). */
export function textEmbedding(w: DitWeights, context: Tensor): Tensor {
  return w.linear('text_embedding.2', geluFused(w.linear('text_embedding.0', context), 'tanh'));
}

/**
 * Wan's per-token timesteps [B, L] (token = f·(h·w) + y·w + x) → the per-frame [B, F] this graph
 * takes. Throws when a frame's tokens do not share one value (the graph cannot represent that).
 */
export function perFrameTimesteps(perToken: ArrayLike<number>, batch: number, grid: LatentGrid): Float32Array {
  const S = grid.h * grid.w;
  const L = grid.frames * S;
  if (perToken.length !== batch * L) throw new ShapeError('perFrameTimesteps', [[perToken.length], [batch, L]], `expected ${batch}×${L} per-token timesteps`);
  const out = new Float32Array(batch * grid.frames);
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < grid.frames; f++) {
      const base = b * L + f * S;
      const v = perToken[base]!;
      for (let i = 1; i < S; i++) {
        if (perToken[base + i] !== v) {
          throw new ShapeError('perFrameTimesteps', [[batch, L]], `batch ${b}, frame ${f}: token ${i} has t=${perToken[base + i]} but token 0 has t=${v}; the DiT graph takes one timestep per latent frame`);
        }
      }
      out[b * grid.frames + f] = v;
    }
  }
  return out;
}
