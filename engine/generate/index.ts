// Flow-matching sampling for the video DiT: schedule, solvers, guidance, seeded noise, the loop, previews.
export * from './types.js';
export * from './schedule.js';
export { EulerSolver } from './euler.js';
export { UniPCSolver } from './unipc.js';
export type { UniPCOptions } from './unipc.js';
export * from './guidance.js';
export { gaussianNoise, philox4x32 } from './noise.js';
export * from './sampler.js';
export * from './preview.js';
