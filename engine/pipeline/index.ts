// The generation pipeline: portrait + speech → watermarked talking-head video (generate.ts), the
// built-in demo model (demo-model.ts), chunk planning and job files for resume.
export * from './generate.js';
export { planChunks } from './chunks.js';
export type { Chunk, ChunkPlan } from './chunks.js';
export { DEMO_MODEL_NAME, DEMO_NOTICE, ensureDemoPackage, cacheRoot } from './demo-model.js';
export { jobDir } from './job-files.js';
