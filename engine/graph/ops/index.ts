// Loads every op family so that its VJPs are registered, and re-exports the op functions.
export * from './broadcast.js';
export * from './elementwise.js';
export * from './shape.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './activations.js';
export * from './normalization.js';
export * from './indexing.js';
export * from './conv.js';
export * from './resize.js';
export * from './attention.js';
