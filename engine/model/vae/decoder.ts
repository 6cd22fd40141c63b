// The Wan2.2 VAE decoder as one chunk step (vae2_2.py `Decoder3d` + `WanVAE_.decode` +
// `Wan2_2_VAE.decode`; wan2.2-ti2v-5b.md §2.1–2.3):
//   z·std + mean → top-level 1³ conv2 → conv1 → middle (Res, Attn, Res) → per stage: ResidualBlocks
//   (+ Resample) (+ DupUp3D shortcut on resampling stages) → head (RMS_norm, SiLU, conv → 12) →
//   unpatchify 2×2 → clamp to [-1, 1].
// Chunks: one latent frame per chunk in the reference run; the first chunk gives 1 pixel frame,
// every later latent frame 4. A first chunk of n+1 latent frames is the whole-clip decode (4n+1 frames).
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { silu } from '../../graph/ops/activations.js';
import { add, max, min, mul } from '../../graph/ops/elementwise.js';
import type { VaeConfig } from '../config.js';
import type { WeightProvider } from '../weight-provider.js';
import { VaeContext } from './context.js';
import type { ChunkGraphOptions, VaeChunkGraph } from './encoder.js';
import { channelConst } from './encoder.js';
import { latentSize, pixelFrameCount, temporalFactor } from './geometry.js';
import { attentionBlock, causalConv3d, residualBlock, rmsNormChannels } from './layers.js';
import type { LatentStats } from './latent-stats.js';
import { latentStats } from './latent-stats.js';
import { unpatchify } from './patchify.js';
import { resample } from './resample.js';
import { dupUp3d } from './shortcuts.js';

/** Channel widths of the decoder stages: dec_dim·[m_last, m_last, ..., m_0] (Wan2.2: 1024, 1024, 1024, 512, 256). */
export function decoderDims(cfg: VaeConfig): number[] {
  const mult = [...cfg.dimMult].reverse();
  return [mult[0]!, ...mult].map((m) => cfg.decDim * m);
}

/** Normalised latent [B, z, T, h, w] → pixels [B, 3, T', 16h, 16w] clamped to [-1, 1]. */
export function vaeDecoder(ctx: VaeContext, cfg: VaeConfig, latent: Tensor, stats: LatentStats): Tensor {
  if (latent.rank !== 5 || latent.shape[1] !== cfg.zDim) throw new ShapeError('VAE decode', [latent.shape], `latent must be [batch, ${cfg.zDim}, frames, height, width]`);
  const dims = decoderDims(cfg);
  const temporalUp = [...cfg.temporalDownsample.slice(0, cfg.dimMult.length - 1)].reverse();
  let x = add(mul(latent, channelConst(latent, stats.std)), channelConst(latent, stats.mean));
  x = causalConv3d(ctx, 'conv2', x, cfg.zDim, [1, 1, 1]);
  x = causalConv3d(ctx, 'decoder.conv1', x, dims[0]!, [3, 3, 3]);
  x = residualBlock(ctx, 'decoder.middle.0', x, dims[0]!);
  x = attentionBlock(ctx, 'decoder.middle.1', x);
  x = residualBlock(ctx, 'decoder.middle.2', x, dims[0]!);
  const stages = cfg.dimMult.length;
  for (let l = 0; l < stages; l++) {
    const p = `decoder.upsamples.${l}.upsamples`;
    const cout = dims[l + 1]!;
    const up = l !== stages - 1;
    const tUp = up && (temporalUp[l] ?? false);
    let y = x;
    for (let j = 0; j < cfg.numResBlocks + 1; j++) y = residualBlock(ctx, `${p}.${j}`, y, cout);
    if (up) {
      y = resample(ctx, `${p}.${cfg.numResBlocks + 1}`, y, tUp ? 'upsample3d' : 'upsample2d');
      y = add(y, dupUp3d(x, cout, tUp ? 2 : 1, 2, ctx.first));
    }
    x = y;
  }
  const last = dims[dims.length - 1]!;
  x = silu(rmsNormChannels(ctx, x, 'decoder.head.0.gamma', [last, 1, 1, 1]));
  x = causalConv3d(ctx, 'decoder.head.2', x, 3 * cfg.pixelPatch * cfg.pixelPatch, [3, 3, 3]);
  return max(min(unpatchify(x, cfg.pixelPatch), 1), -1);
}

/**
 * One decode chunk step. Input "latent" [B, z, frames, h, w] (normalised, h = H/16); output "pixels"
 * [B, 3, T', H, W] in [-1, 1]; plus a "cache_out.<layer>" output per cache slot and, unless `first`,
 * the matching "cache_in.<layer>" input. `height`/`width` are the PIXEL size of the video.
 * First chunk: frames = n + 1 latent frames → 4n + 1 pixel frames (1 → 1 in the chunked run).
 * Later chunks: frames = k → 4k pixel frames.
 */
export function decodeChunkGraph(cfg: VaeConfig, provider: WeightProvider, o: ChunkGraphOptions): VaeChunkGraph {
  if (!Number.isInteger(o.frames) || o.frames < 1) throw new ShapeError('VAE decode', [[o.frames]], `latent frame count must be a positive integer, got ${o.frames}`);
  const outFrames = o.first ? pixelFrameCount(cfg, o.frames) : o.frames * temporalFactor(cfg);
  const lat = latentSize(cfg, o.height, o.width);
  const g = new Graph(o.first ? 'vae_decode_first' : 'vae_decode_next');
  const ctx = new VaeContext(g, provider, o.first ? 'first' : 'next', 'float32', o);
  const batch = o.batch ?? 1;
  const input = g.input('latent', 'float32', [batch, cfg.zDim, o.frames, lat.height, lat.width]);
  const px = vaeDecoder(ctx, cfg, input, latentStats(cfg, o.stats));
  const expected = [batch, 3, outFrames, o.height, o.width];
  if (px.shape.some((d, i) => d !== expected[i])) throw new ShapeError('VAE decode', [px.shape, expected], 'internal: pixel shape differs from the frame/size rule');
  const output = g.output(px, 'pixels');
  return { graph: g, input, output, caches: ctx.caches };
}
