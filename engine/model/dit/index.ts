// The Wan2.2 DiT in the graph language: the forward, its pieces, and the hooks (LoRA, speech injection).
export * from './dit.js';
export { ditBlock, attend } from './block.js';
export type { BlockRuntime } from './block.js';
export * from './embeddings.js';
export * from './patch.js';
export * from './rope.js';
export { ditWeights } from './weights.js';
export type { DitWeights } from './weights.js';
