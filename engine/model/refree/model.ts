// ReFree-S2V = the Wan2.2 DiT + the speech encoder + per-block injection, in one graph: speech
// features [B, Tv, speechDim] (Tv = 4·(F−1) + 1 for F latent frames) go through the encoder, and the
// DiT's hook injects them at cfg.injectAt in cfg.injectBlocks.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { ShapeError } from '../../graph/errors.js';
import type { DitConfig } from '../config.js';
import { ditForward } from '../dit/dit.js';
import type { DitGridSize, DitInputs, DitOptions } from '../dit/dit.js';
import type { WeightProvider } from '../weight-provider.js';
import type { ReFreeConfig } from './config.js';
import { videoFramesFor } from './frames.js';
import { ditInjectHook, makeInjector } from './injector.js';
import { ENC, refreeWeights } from './params.js';
import { add, cast, mul, sub } from '../../graph/ops/elementwise.js';
import { unsqueeze } from '../../graph/ops/shape.js';
import { speechEncoder } from './speech-encoder.js';

export interface ReFreeInputs extends DitInputs {
  /** Speech features aligned to video frames [B, Tv, speechDim]. */
  speech: Tensor;
  /**
   * Optional [B, Tv] mask, 1 where the speech is masked: those frames' features are replaced by the
   * learned null speech (`refree.speech_encoder.null_speech`). Guidance's "no speech" pass masks every
   * frame; masked-speech DPO masks random spans.
   */
  speechMask?: Tensor;
}

/** features + mask·(null − features): masked frames take the learned null speech. */
export function maskSpeech(features: Tensor, mask: Tensor, nullSpeech: Tensor): Tensor {
  const [B, Tv] = features.shape as [number, number];
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== Tv) throw new ShapeError('ReFree', [features.shape, mask.shape], `the speech mask must be [${B}, ${Tv}] (one value per video frame)`);
  const m = unsqueeze(mask.dtype === features.dtype ? mask : cast(mask, features.dtype), [2]);
  return add(features, mul(m, sub(nullSpeech, features)));
}

/** The velocity [B, outDim, F, H, W]. `provider` serves both the DiT's and the adapter's weights. */
export function refreeForward(g: Graph, dit: DitConfig, c: ReFreeConfig, provider: WeightProvider, inputs: ReFreeInputs, options: Omit<DitOptions, 'inject' | 'injectAt'> = {}): Tensor {
  if (dit.dim !== c.dim || dit.layers !== c.layers) {
    throw new ShapeError('ReFree', [[dit.dim, dit.layers], [c.dim, c.layers]], `adapter built for dim ${c.dim} / ${c.layers} blocks, DiT has dim ${dit.dim} / ${dit.layers} blocks`);
  }
  const frames = inputs.latents.shape[2]! / dit.patch[0];
  const speechFrames = inputs.speech.shape[1];
  if (speechFrames !== videoFramesFor(frames, c.temporalStride)) {
    throw new ShapeError('ReFree', [inputs.latents.shape, inputs.speech.shape], `${frames} latent frames need ${videoFramesFor(frames, c.temporalStride)} video frames of speech, got ${speechFrames}`);
  }
  const rw = refreeWeights(g, c, provider);
  const features = inputs.speechMask ? maskSpeech(inputs.speech, inputs.speechMask, rw.param(`${ENC}.null_speech`, inputs.speech.dtype)) : inputs.speech;
  const enc = speechEncoder(c, rw, features);
  const injector = makeInjector(c, provider, { attention: options.attention === 'fused' ? 'fused' : 'naive' });
  return ditForward(g, dit, provider, inputs, { ...options, inject: ditInjectHook(injector, enc.speech), injectAt: c.injectAt });
}

/**
 * Graph with inputs latents, timesteps, context, speech_features (and speech_mask [B, Tv] with
 * `speechMask`) and output `velocity`.
 */
export function buildReFreeGraph(dit: DitConfig, c: ReFreeConfig, provider: WeightProvider, size: DitGridSize, options: Omit<DitOptions, 'inject' | 'injectAt'> & { dtype?: DType; speechMask?: boolean } = {}): Graph {
  const dtype = options.dtype ?? 'float32';
  const g = new Graph('refree_s2v');
  const latents = g.input('latents', dtype, [size.batch, dit.inDim, size.frames, size.h, size.w]);
  const frames = size.frames / dit.patch[0];
  const timesteps = g.input('timesteps', dtype === 'float64' ? 'float64' : 'float32', [size.batch, frames]);
  const context = g.input('context', dtype, [size.batch, dit.textLen, dit.textDim]);
  const Tv = videoFramesFor(frames, c.temporalStride);
  const speech = g.input('speech_features', dtype, [size.batch, Tv, c.speechDim]);
  const speechMask = options.speechMask ? g.input('speech_mask', dtype === 'float64' ? 'float64' : 'float32', [size.batch, Tv]) : undefined;
  const { speechMask: _m, dtype: _d, ...ditOptions } = options;
  g.output(refreeForward(g, dit, c, provider, { latents, timesteps, context, speech, speechMask }, ditOptions), 'velocity');
  return g;
}
