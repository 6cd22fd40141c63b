// LoRA for the Wan DiT: config and targets, the graph hook, host-side merge, and the file formats.
export * from './config.js';
export * from './adapter.js';
export * from './hook.js';
export * from './merge.js';
export * from './formats.js';
export * from './io.js';
