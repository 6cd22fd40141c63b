// umT5-XXL text encoder (wan2.2-ti2v-5b.md §3): graph, tokenizer, prompt cache, session lifetime.
export * from './buckets.js';
export * from './clean.js';
export * from './encoder.js';
export * from './tokenizer.js';
export * from './cache.js';
export * from './text-encoder.js';
export * from './run.js';
