// The multi-level speech encoder (ReFree-S2V, "Multi-level speech representation"):
//
//   features [B, Tv, speechDim]                        speech features aligned to video frames
//   p   = in_proj(features)                             [B, Tv, D]
//   c_l = Conv1d_l(p), kernel K_l, same length          [B, Tv, D] per level; K_l grows with l
//   h_l = c_l + MLP(LN(c_l) + level_embed[l])           ONE MLP for all levels, told the level by its embedding
//   win = h_l at the window positions of each latent frame (frames.ts), zero outside the clip
//   levels  = LN(pool(flatten(win)))                    [B, L, Tlat, D]  (pool: a learned Linear over the window)
//   windows = LN(win) + window_pos                      [B, L, Tlat, W, D] (cross-attention mode only)
//
// Why these choices (the paper gives the structure, not the details):
// - Convolutions run at the video frame rate, before any pooling, so K_l counts video frames and the
//   lowest level keeps sub-latent-frame (phoneme) detail; the window then looks s·(past+1+future)
//   frames around each latent frame, which is where the anticipation comes from.
// - The residual keeps each level's convolution output; the shared MLP adds the level-conditioned
//   nonlinearity the paper describes at the cost of one MLP for all levels.
// - The pooling is a learned linear map over the flattened window (not a mean): a mean would blur the
//   4 video frames of a latent frame together with its neighbours, and lip shapes need the order.
// - The output LayerNorm puts every level on the same scale, so the softmax selector mixes comparable
//   vectors and the FiLM projection sees unit-scale inputs.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { ShapeError } from '../../graph/errors.js';
import { silu } from '../../graph/ops/activations.js';
import { conv } from '../../graph/ops/conv.js';
import { add } from '../../graph/ops/elementwise.js';
import { concat, gather, pad } from '../../graph/ops/indexing.js';
import { linear } from '../../graph/ops/matmul.js';
import { layerNorm } from '../../graph/ops/normalization.js';
import { reshape, transpose, unsqueeze } from '../../graph/ops/shape.js';
import type { WeightProvider } from '../weight-provider.js';
import type { ReFreeConfig } from './config.js';
import { latentFramesFor, windowIndices, windowLength } from './frames.js';
import type { ReFreeWeights } from './params.js';
import { ENC, refreeWeights } from './params.js';

export interface SpeechEncoding {
  /** Per-level summaries per latent frame [B, L, Tlat, D] (what FiLM injection consumes). */
  levels: Tensor;
  /** Per-level window tokens [B, L, Tlat, W, D] (cross-attention mode only, else null). */
  windows: Tensor | null;
  /** What the injector of this config consumes: `windows` in cross-attention mode, else `levels`. */
  speech: Tensor;
}

/** Gathers every latent frame's window along the time axis (axis 2 of [B, L, Tv, D]), zero-padded. */
function windowTokens(h: Tensor, c: ReFreeConfig, latentFrames: number): Tensor {
  const Tv = h.shape[2]!;
  const idx = windowIndices(latentFrames, c.window, c.temporalStride);
  const flat = idx.flat();
  const before = Math.max(0, -Math.min(...flat));
  const after = Math.max(0, Math.max(...flat) - (Tv - 1));
  const padded = pad(h, [0, 0, before, 0, 0, 0, after, 0]);
  const W = windowLength(c.window, c.temporalStride);
  const indices = h.graph.constant('int64', [latentFrames, W], flat.map((i) => i + before));
  return gather(padded, indices, 2); // [B, L, Tlat, W, D]
}

/** Encodes aligned speech features [B, Tv, speechDim] (Tv = 4·n + 1) into per-level latent-frame summaries. */
export function speechEncoder(c: ReFreeConfig, w: ReFreeWeights, features: Tensor): SpeechEncoding {
  const [B, Tv, F] = features.shape as [number, number, number];
  if (features.rank !== 3 || F !== c.speechDim) {
    throw new ShapeError('SpeechEncoder', [features.shape], `speech features must be [batch, video frames, speechDim=${c.speechDim}]`);
  }
  if ((Tv - 1) % c.temporalStride !== 0) {
    throw new ShapeError('SpeechEncoder', [features.shape], `${Tv} video frames do not map onto latent frames: the count must be ${c.temporalStride}·n + 1`);
  }
  const Tlat = latentFramesFor(Tv, c.temporalStride);
  const dt: DType = features.dtype;
  const P = (name: string): Tensor => w.param(`${ENC}.${name}`, dt);
  const D = c.hidden;
  const L = c.levels;
  const g = w.graph;
  return g.scope('refree.speech_encoder', () => {
    const p = transpose(linear(features, P('in_proj.weight'), P('in_proj.bias')), [0, 2, 1]); // [B, D, Tv]
    const convs = c.kernelSizes.map((k, l) => {
      const half = (k - 1) / 2;
      return unsqueeze(conv(p, P(`levels.${l}.conv.weight`), P(`levels.${l}.conv.bias`), { pads: [half, half] }), [1]);
    });
    const cl = transpose(concat(convs, 1), [0, 1, 3, 2]); // [B, L, Tv, D]
    const emb = reshape(P('level_embed'), [1, L, 1, D]);
    const m = linear(silu(linear(add(layerNorm(cl, P('norm_mlp.weight'), P('norm_mlp.bias'), { eps: c.eps }), emb), P('mlp.0.weight'), P('mlp.0.bias'))), P('mlp.2.weight'), P('mlp.2.bias'));
    const h = add(cl, m);
    const win = windowTokens(h, c, Tlat); // [B, L, Tlat, W, D]
    const W = win.shape[3]!;
    const pooled = linear(reshape(win, [B, L, Tlat, W * D]), P('pool.weight'), P('pool.bias'));
    const levels = layerNorm(pooled, P('norm_out.weight'), P('norm_out.bias'), { eps: c.eps });
    if (c.mode !== 'cross-attention') return { levels, windows: null, speech: levels };
    // Window tokens share the output norm; a learned offset embedding tells past from future
    // (attention alone is order-blind).
    const windows = add(layerNorm(win, P('norm_out.weight'), P('norm_out.bias'), { eps: c.eps }), P('window_pos'));
    return { levels, windows, speech: windows };
  });
}

export interface SpeechEncoderGraphSize {
  batch: number;
  /** Video frames (4·n + 1). */
  videoFrames: number;
}

/**
 * The speech encoder as its own component: input `speech_features` [B, Tv, speechDim], output
 * `speech` (the tensor the injector consumes: [B, L, Tlat, D], or [B, L, Tlat, W, D] in
 * cross-attention mode). Run once per chunk; its output feeds every sampling step's DiT graph.
 */
export function buildSpeechEncoderGraph(c: ReFreeConfig, provider: WeightProvider, size: SpeechEncoderGraphSize, dtype: DType = 'float32'): Graph {
  const g = new Graph('refree_speech_encoder');
  const features = g.input('speech_features', dtype, [size.batch, size.videoFrames, c.speechDim]);
  g.output(speechEncoder(c, refreeWeights(g, c, provider), features).speech, 'speech');
  return g;
}
