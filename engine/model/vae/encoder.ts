// The Wan2.2 VAE encoder as one chunk step (vae2_2.py `Encoder3d` + `WanVAE_.encode`;
// wan2.2-ti2v-5b.md §2.1–2.3):
//   patchify 2×2 → conv1 → per stage: ResidualBlocks (+ Resample) + AvgDown3D shortcut → middle
//   (Res, Attn, Res) → head (RMS_norm, SiLU, conv → 2·z) → top-level 1³ conv1 → mu (first z channels)
//   → (mu − mean)/std.
// Chunks: the first chunk is pixel frame 0 alone (or a whole 4n+1-frame clip), every later chunk 4k
// frames; each 4 frames give one latent frame.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { silu } from '../../graph/ops/activations.js';
import { add, mul, sub } from '../../graph/ops/elementwise.js';
import { narrow } from '../../graph/ops/indexing.js';
import type { VaeConfig } from '../config.js';
import type { WeightProvider } from '../weight-provider.js';
import type { CacheSpec, VaeBuildOptions } from './context.js';
import { VaeContext } from './context.js';
import { latentFrameCount, latentSize, temporalFactor } from './geometry.js';
import { attentionBlock, causalConv3d, residualBlock, rmsNormChannels } from './layers.js';
import type { LatentStats } from './latent-stats.js';
import { latentStats } from './latent-stats.js';
import { patchify } from './patchify.js';
import { resample } from './resample.js';
import { avgDown3d } from './shortcuts.js';

export interface ChunkGraphOptions extends VaeBuildOptions {
  /** The first chunk of a clip (no cache inputs; zero causal padding). */
  first: boolean;
  /** Frames of this chunk's input: pixel frames for encode, latent frames for decode. */
  frames: number;
  /** Video size in pixels (multiples of the spatial factor, 16 for Wan2.2). */
  height: number;
  width: number;
  batch?: number;
  /** Latent normalisation; defaults to latentStats(cfg). */
  stats?: LatentStats;
}

/** A built chunk-step graph: its data input and output and its cache slots, in execution order. */
export interface VaeChunkGraph {
  graph: Graph;
  input: Tensor;
  output: Tensor;
  caches: CacheSpec[];
}

/** Channel widths of the encoder stages: [dim, dim·m0, dim·m1, ...] (Wan2.2: 160, 160, 320, 640, 640). */
export function encoderDims(cfg: VaeConfig): number[] {
  return [cfg.encDim, ...cfg.dimMult.map((m) => cfg.encDim * m)];
}

/** A per-channel [1, C, 1, 1, 1] constant. */
export function channelConst(like: Tensor, values: readonly number[]): Tensor {
  return like.graph.constant(like.dtype, [1, values.length, 1, 1, 1], values);
}

/** pixels [B, 3, T, H, W] in [-1, 1] → normalised latent [B, z, T', H/16, W/16]. */
export function vaeEncoder(ctx: VaeContext, cfg: VaeConfig, pixels: Tensor, stats: LatentStats): Tensor {
  if (pixels.rank !== 5 || pixels.shape[1] !== 3) throw new ShapeError('VAE encode', [pixels.shape], 'pixels must be [batch, 3, frames, height, width]');
  const dims = encoderDims(cfg);
  let x = patchify(pixels, cfg.pixelPatch);
  x = causalConv3d(ctx, 'encoder.conv1', x, dims[0]!, [3, 3, 3]);
  const stages = cfg.dimMult.length;
  for (let l = 0; l < stages; l++) {
    const p = `encoder.downsamples.${l}.downsamples`;
    const cout = dims[l + 1]!;
    const down = l !== stages - 1;
    const tDown = down && (cfg.temporalDownsample[l] ?? false);
    const shortcut = avgDown3d(x, cout, tDown ? 2 : 1, down ? 2 : 1, ctx.first);
    let y = x;
    for (let j = 0; j < cfg.numResBlocks; j++) y = residualBlock(ctx, `${p}.${j}`, y, cout);
    if (down) y = resample(ctx, `${p}.${cfg.numResBlocks}`, y, tDown ? 'downsample3d' : 'downsample2d');
    x = add(y, shortcut);
  }
  const top = dims[dims.length - 1]!;
  x = residualBlock(ctx, 'encoder.middle.0', x, top);
  x = attentionBlock(ctx, 'encoder.middle.1', x);
  x = residualBlock(ctx, 'encoder.middle.2', x, top);
  x = silu(rmsNormChannels(ctx, x, 'encoder.head.0.gamma', [top, 1, 1, 1]));
  x = causalConv3d(ctx, 'encoder.head.2', x, 2 * cfg.zDim, [3, 3, 3]);
  // Top-level conv1 (1³): mu and log_var; only mu is used.
  const mu = narrow(causalConv3d(ctx, 'conv1', x, 2 * cfg.zDim, [1, 1, 1]), 1, 0, cfg.zDim);
  return mul(sub(mu, channelConst(mu, stats.mean)), channelConst(mu, stats.std.map((s) => 1 / s)));
}

/**
 * One encode chunk step. Input "pixels" [B, 3, frames, H, W]; output "latent" (normalised); plus a
 * "cache_out.<layer>" output per cache slot and, unless `first`, the matching "cache_in.<layer>" input.
 * First chunk: frames = 4n + 1 (1 in the chunked run; the whole clip for a one-shot encode).
 * Later chunks: frames = 4k (4 in the chunked run).
 */
export function encodeChunkGraph(cfg: VaeConfig, provider: WeightProvider, o: ChunkGraphOptions): VaeChunkGraph {
  const f = temporalFactor(cfg);
  const outFrames = o.first ? latentFrameCount(cfg, o.frames) : o.frames / f;
  if (!o.first && (!Number.isInteger(outFrames) || outFrames < 1)) {
    throw new ShapeError('VAE encode', [[o.frames]], `a later chunk must have a positive multiple of ${f} frames, got ${o.frames}`);
  }
  const lat = latentSize(cfg, o.height, o.width);
  const g = new Graph(o.first ? 'vae_encode_first' : 'vae_encode_next');
  const ctx = new VaeContext(g, provider, o.first ? 'first' : 'next', 'float32', o);
  const input = g.input('pixels', 'float32', [o.batch ?? 1, 3, o.frames, o.height, o.width]);
  const z = vaeEncoder(ctx, cfg, input, latentStats(cfg, o.stats));
  const expected = [o.batch ?? 1, cfg.zDim, outFrames, lat.height, lat.width];
  if (z.shape.some((d, i) => d !== expected[i])) throw new ShapeError('VAE encode', [z.shape, expected], 'internal: latent shape differs from the frame/size rule');
  const output = g.output(z, 'latent');
  return { graph: g, input, output, caches: ctx.caches };
}
