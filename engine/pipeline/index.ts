// The generation pipeline: portrait + speech → watermarked talking-head video (generate.ts), the
// built-in model refree-mini (demo-model.ts), chunk planning and job files for resume.
export * from './generate.js';
export { planChunks } from './chunks.js';
export type { Chunk, ChunkPlan } from './chunks.js';
export { BUILT_IN_MODEL_DIR, BuiltInModelMissingError, DEMO_MODEL_NAME, builtInModelDir, cacheRoot } from './demo-model.js';
export { jobDir } from './job-files.js';
