// The Wan2.2 VAE in the graph language: chunk-step graphs with explicit temporal caches, their cache
// lists, the frame/size rules and the chunk-by-chunk driver.
export type { CacheSpec, ChunkMode, VaeBuildOptions } from './context.js';
export { VaeContext } from './context.js';
export type { ChunkGraphOptions, VaeChunkGraph } from './encoder.js';
export { encodeChunkGraph, encoderDims, vaeEncoder } from './encoder.js';
export { decodeChunkGraph, decoderDims, vaeDecoder } from './decoder.js';
export type { VaeSize } from './cache-specs.js';
export { cacheBytes, vaeCacheSpecs } from './cache-specs.js';
export { latentFrameCount, latentSize, pixelFrameCount, spatialFactor, temporalFactor } from './geometry.js';
export type { LatentStats } from './latent-stats.js';
export { WAN22_LATENT_MEAN, WAN22_LATENT_STD, latentStats } from './latent-stats.js';
export { patchify, unpatchify } from './patchify.js';
export type { Clip, VaeRunOptions } from './run.js';
export { VaeRunner, concatFrames, sliceFrames } from './run.js';
