// The cache slots of the encode/decode chunk-step graphs for a config and video size, without any
// weights: the graph is built with a shape-only provider, so the list is by construction the one the
// real graphs use (names, order, shapes). The pipeline uses it to plan memory and allocate buffers.
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
