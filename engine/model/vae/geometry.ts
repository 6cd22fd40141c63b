// Frame and size rules of the Wan2.2 VAE (wan2.2-ti2v-5b.md §2.1, §2.3), derived from the config so the
// tiny test model and the 5B model follow the same code.
// Wan2.2: time ×4 (two temporal downsamples), space ×16 (patch 2 × three 2× downsamples).
import { ShapeError } from '../../graph/errors.js';
import type { VaeConfig } from '../config.js';

/** Pixel frames per latent frame after the first (2 per temporal downsample). */
export function temporalFactor(cfg: VaeConfig): number {
  return 2 ** temporalSteps(cfg);
}

/** Pixels per latent cell along height and width. */
export function spatialFactor(cfg: VaeConfig): number {
  return cfg.pixelPatch * 2 ** (cfg.dimMult.length - 1);
}

/** How many of the stages halve time: temporalDownsample[i] for each downsampling stage i. */
function temporalSteps(cfg: VaeConfig): number {
  let n = 0;
  for (let i = 0; i < cfg.dimMult.length - 1; i++) if (cfg.temporalDownsample[i]) n++;
  return n;
}

/** T = f·n + 1 pixel frames ↔ n + 1 latent frames (f = 4 for Wan2.2). Throws for other T. */
export function latentFrameCount(cfg: VaeConfig, pixelFrames: number): number {
  const f = temporalFactor(cfg);
  if (!Number.isInteger(pixelFrames) || pixelFrames < 1 || (pixelFrames - 1) % f !== 0) {
    throw new ShapeError('VAE frames', [[pixelFrames]], `a clip must have ${f}·n + 1 frames (1, ${1 + f}, ${1 + 2 * f}, ...), got ${pixelFrames}`);
  }
  return (pixelFrames - 1) / f + 1;
}

/** n + 1 latent frames decode to f·n + 1 pixel frames. */
export function pixelFrameCount(cfg: VaeConfig, latentFrames: number): number {
  if (!Number.isInteger(latentFrames) || latentFrames < 1) throw new ShapeError('VAE frames', [[latentFrames]], `latent frame count must be a positive integer, got ${latentFrames}`);
  return temporalFactor(cfg) * (latentFrames - 1) + 1;
}

/** The latent grid for a pixel size; both sides must be multiples of the spatial factor. */
export function latentSize(cfg: VaeConfig, height: number, width: number): { height: number; width: number } {
  const s = spatialFactor(cfg);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < s || width < s || height % s !== 0 || width % s !== 0) {
    throw new ShapeError('VAE size', [[height, width]], `height and width must be positive multiples of ${s}, got ${height}x${width}`);
  }
  return { height: height / s, width: width / s };
}
