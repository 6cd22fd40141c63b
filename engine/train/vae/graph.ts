// The VAE training step as one graph: pixels → encoder → latent → decoder → pixels, on whole short
// clips of s·n + 1 frames (the first-chunk graphs' whole-clip form, which equals the chunked run), a
// reconstruction loss weighted per pixel (lips and face heavier, so the mouth stays sharp), a small
// latent regulariser, and the AdamW update of graphs.ts. Inputs: params, adam_m, adam_v, step, lr,
// grad_extra, grad_scale (the Stepper's), pixels [B,3,T,S,S] in [-1,1], weight [B,1,T,S,S] (mean 1).
// Outputs: loss, mse (plain, unweighted), grad, params_out, adam_m_out, adam_v_out, grad_norm.
// Decoder-only runs may add a `latent_noise` input (see VaeStepShape.latentNoise).
// With `frozen` weights (decoder-only training) the layout holds the decoder alone and the encoder's
// weights are constants of the graph: the latent space stays exactly the one a DiT was trained on.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { ParamLayout, FlatParams } from '../../graph/params.js';
import { add, mul, sub } from '../../graph/ops/elementwise.js';
import { reduceMean } from '../../graph/ops/reduce.js';
import type { VaeConfig } from '../../model/config.js';
import { vaeDecoderParams, vaeParams } from '../../model/inventory/vae.js';
import { VaeContext } from '../../model/vae/context.js';
import { vaeDecoder } from '../../model/vae/decoder.js';
import { vaeEncoder } from '../../model/vae/encoder.js';
import { latentStats } from '../../model/vae/latent-stats.js';
import type { LatentStats } from '../../model/vae/latent-stats.js';
import { MapWeightProvider } from '../../model/weight-provider.js';
import type { WeightEntry, WeightProvider } from '../../model/weight-provider.js';
import type { OptimizerSettings } from '../graphs.js';
import { optimizerInputs, update } from '../graphs.js';

function layoutOf(params: readonly { name: string; shape: readonly number[] }[]): ParamLayout {
  const layout = new ParamLayout();
  for (const p of params) layout.add(p.name, p.shape);
  return layout;
}

/** Every VAE parameter in the inventory's order: the flat vector a VAE run trains. */
export const vaeLayout = (cfg: VaeConfig): ParamLayout => layoutOf(vaeParams(cfg));

/** The decoder's parameters alone: what decoder-only training trains. */
export const vaeDecoderLayout = (cfg: VaeConfig): ParamLayout => layoutOf(vaeDecoderParams(cfg));

/** The layout's weights are slices of the graph's flat `params` input; any other comes from `frozen`. */
class FlatProvider implements WeightProvider {
  private readonly fixed: MapWeightProvider | null;
  constructor(
    readonly flat: FlatParams,
    readonly layout: ParamLayout,
    frozen: ReadonlyMap<string, WeightEntry> | null,
  ) {
    this.fixed = frozen ? new MapWeightProvider(frozen, 'the frozen encoder') : null;
  }
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    if (this.layout.has(name) || !this.fixed) return this.flat.param(name, shape);
    return this.fixed.get(g, name, shape);
  }
}

export function identityStats(zDim: number): LatentStats {
  return { mean: new Array<number>(zDim).fill(0), std: new Array<number>(zDim).fill(1) };
}

export interface VaeStepShape {
  batch: number;
  /** Pixel frames per clip (s·n + 1). */
  frames: number;
  size: number;
  /**
   * Decoder-only runs with latent noise: a `latent_noise` input [B, zDim, Tl, h, w] is added to the
   * frozen encoder's latent before decoding, so the decoder learns to draw clean frames from latents
   * that are a little off, as a DiT's sampled ones are.
   */
  latentNoise?: boolean;
}

export interface VaeLossSettings extends OptimizerSettings {
  /** Weight of mean(z²) added to the reconstruction loss. */
  latentReg: number;
}

/**
 * The reconstruction loss on the graph's `pixels` and `weight` inputs: encoder → latent → decoder → the
 * per-pixel weighted squared error + latentReg·mean(z²); `mse` is the plain, unweighted error.
 */
export function vaeTrainingLoss(g: Graph, cfg: VaeConfig, provider: WeightProvider, s: VaeStepShape, latentReg: number): { loss: Tensor; mse: Tensor } {
  const pixels = g.input('pixels', 'float32', [s.batch, 3, s.frames, s.size, s.size]);
  const weight = g.input('weight', 'float32', [s.batch, 1, s.frames, s.size, s.size]);
  // Identity statistics while training; the measured ones are folded into the weights at the end (stats.ts).
  const id = latentStats(cfg, identityStats(cfg.zDim));
  const z = vaeEncoder(new VaeContext(g, provider, 'first', 'float32'), cfg, pixels, id);
  const noisy = s.latentNoise ? add(z, g.input('latent_noise', 'float32', z.shape)) : z;
  const rec = vaeDecoder(new VaeContext(g, provider, 'first', 'float32'), cfg, noisy, id);
  const d = sub(rec, pixels);
  const d2 = mul(d, d);
  return { loss: add(reduceMean(mul(d2, weight)), mul(reduceMean(mul(z, z)), latentReg)), mse: reduceMean(d2) };
}

export function buildVaeTrainGraph(cfg: VaeConfig, layout: ParamLayout, s: VaeStepShape, opt: VaeLossSettings, frozen: ReadonlyMap<string, WeightEntry> | null = null): { graph: Graph; outputs: Tensor[] } {
  const g = new Graph('refree_vae_step');
  const flat = FlatParams.bind(g, layout, { name: 'params' });
  const io = optimizerInputs(g, layout.size, flat.flat);
  const { loss, mse } = vaeTrainingLoss(g, cfg, new FlatProvider(flat, layout, frozen), s, opt.latentReg);
  const grad = flat.gradient(loss);
  return { graph: g, outputs: [g.alias(loss, 'loss'), g.alias(mse, 'mse'), ...update(g, io, grad, opt)] };
}
