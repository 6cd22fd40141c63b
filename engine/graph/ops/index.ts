// Re-exports the op functions of every family (their VJPs are registered in ../vjp-rules.ts).
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
