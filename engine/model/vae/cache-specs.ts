// The cache slots of the encode/decode chunk-step graphs for a config and video size, without any
// weights: the graph is built with a shape-only provider, so the list is by construction the one the
// real graphs use (names, order, shapes). The pipeline uses it to plan memory and allocate buffers.
//
// Wan2.2 5B (checked in shapes.test.ts), at H x W pixels, fp32:
// - encode: 24 slots = conv1 + 16 ResidualBlock convs + 4 middle convs + head + 2 downsample3d
//   time_convs (1 frame each; all others 2 frames). 2.12 GB at 704x1280.
// - decode: 32 slots = conv1 + 4 middle convs + 24 ResidualBlock convs + 2 upsample3d time_convs +
//   head. 6.43 GB at 704x1280; the largest are the last stage's [1, 256|512, 2, H/2, W/2].
// The reference sizes its list by counting CausalConv3d modules (26 / 34); the two 1³ shortcut convs
// of each pass are counted there but never take a slot.
import { BYTES_PER_ELEMENT } from '../../graph/dtype.js';
import type { VaeConfig } from '../config.js';
import { InputWeightProvider } from '../weight-provider.js';
import type { CacheSpec } from './context.js';
import { decodeChunkGraph } from './decoder.js';
import { encodeChunkGraph } from './encoder.js';
import { temporalFactor } from './geometry.js';

export interface VaeSize {
  /** Pixel height and width of the video. */
  height: number;
  width: number;
  batch?: number;
}

/** Cache slots (execution order) shared by the first-chunk (outputs only) and later-chunk graphs. */
export function vaeCacheSpecs(cfg: VaeConfig, which: 'encode' | 'decode', size: VaeSize): CacheSpec[] {
  const o = { ...size, first: false };
  const built = which === 'encode' ? encodeChunkGraph(cfg, new InputWeightProvider(), { ...o, frames: temporalFactor(cfg) }) : decodeChunkGraph(cfg, new InputWeightProvider(), { ...o, frames: 1 });
  return built.caches;
}

/** Total bytes of a cache list (what one carried state costs between two chunk runs). */
export function cacheBytes(specs: readonly CacheSpec[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[s.dtype], 0);
}
