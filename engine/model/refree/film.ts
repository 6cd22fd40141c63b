// Multi-head FiLM speech injection (ReFree-S2V, "Speech injection via multi-head FiLM"):
//
//   [γ | β] = film(A_f)                    A_f [D]: the block's speech summary of latent frame f
//   x_k ← x_k · (1 + γ_k) + β_k            per head k (channels k·dim/K .. (k+1)·dim/K), every token of frame f
//
// The paper writes F_k = γ_k ⊙ H_k + β_k; we parameterise the scale as 1 + γ so that zero-initialised
// film weights make an untrained adapter the exact identity (γ = β = 0), the usual adaLN/ControlNet
// practice for adapters added to a pretrained model. Because γ_k, β_k are head slices of one vector
// computed by one linear layer from the full A_f, "per head, then concatenate" equals a per-channel
// FiLM whose channel groups are the DiT's attention heads; the weight's rows are laid out as
// γ_0 … γ_{K−1}, β_0 … β_{K−1}, each dim/K wide.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import { split } from '../../graph/ops/indexing.js';
import { linear } from '../../graph/ops/matmul.js';
import { reshape } from '../../graph/ops/shape.js';

export interface FrameLayout {
  /** Latent frames F; tokens of frame f are the consecutive run [f·S, (f+1)·S). */
  frames: number;
  /** S = h·w tokens per latent frame. */
  tokensPerFrame: number;
}

/** x [B, F·S, dim], summary [B, F, D], weight [2·dim, D], bias [2·dim] → [B, F·S, dim]. */
export function filmInject(x: Tensor, summary: Tensor, weight: Tensor, bias: Tensor, heads: number, layout: FrameLayout): Tensor {
  const [B, Ltok, dim] = x.shape as [number, number, number];
  const { frames: F, tokensPerFrame: S } = layout;
  const shapes = [x.shape, summary.shape, weight.shape];
  if (x.rank !== 3 || Ltok !== F * S) throw new ShapeError('FiLM', shapes, `x must be [batch, frames·tokensPerFrame = ${F}·${S}, dim]`);
  if (summary.rank !== 3 || summary.shape[0] !== B || summary.shape[1] !== F) {
    throw new ShapeError('FiLM', shapes, `the speech summary must be [${B}, ${F} latent frames, D]: one summary per latent frame of the video`);
  }
  if (weight.rank !== 2 || weight.shape[0] !== 2 * dim || weight.shape[1] !== summary.shape[2]) {
    throw new ShapeError('FiLM', shapes, `film weight must be [2·dim = ${2 * dim}, D = ${summary.shape[2]}]`);
  }
  if (dim % heads !== 0) throw new ShapeError('FiLM', shapes, `dim ${dim} is not divisible by ${heads} heads`);
  const gb = reshape(linear(summary, weight, bias), [B, F, 1, 2 * dim]);
  const [gamma, beta] = split(gb, [dim, dim], 3) as [Tensor, Tensor];
  const y = add(mul(reshape(x, [B, F, S, dim]), add(gamma, 1)), beta); // broadcast over the S tokens of each frame
  return reshape(y, [B, Ltok, dim]);
}
