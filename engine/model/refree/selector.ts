// The learnable level selector (ReFree-S2V): each injection block owns a vector w ∈ R^L and mixes the
// encoder's levels as A = Σ_l softmax(w)_l · L_l, so one block can take local (phonetic) speech and
// another global (prosodic) speech. Zero-initialised logits give the uniform mix 1/L.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { mul } from '../../graph/ops/elementwise.js';
import { softmax } from '../../graph/ops/normalization.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { reshape } from '../../graph/ops/shape.js';

/** softmax over the L selector logits [L] → weights [L] that sum to 1. */
export function levelWeights(logits: Tensor): Tensor {
  if (logits.rank !== 1) throw new ShapeError('LevelSelector', [logits.shape], 'selector logits must be a vector [L]');
  return softmax(logits, 0);
}

/**
 * Mixes levels [B, L, ...rest] with the selector's logits [L] into [B, ...rest]
 * (summaries [B, L, Tlat, D] → [B, Tlat, D]; window tokens [B, L, Tlat, W, D] → [B, Tlat, W, D]).
 */
export function selectLevels(levels: Tensor, logits: Tensor): Tensor {
  const L = levels.shape[1];
  if (levels.rank < 3 || logits.rank !== 1 || logits.shape[0] !== L) {
    throw new ShapeError('LevelSelector', [levels.shape, logits.shape], 'levels must be [batch, L, ...] and the selector [L]');
  }
  const w = reshape(levelWeights(logits), levels.shape.map((d, i) => (i === 1 ? d : 1)));
  return reduceSum(mul(levels, w), [1]);
}
