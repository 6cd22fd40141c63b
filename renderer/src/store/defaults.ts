import type { GenerationSettings } from '../../../engine/service/contract.js';

// A copy of the contract's DEFAULT_GENERATION: the renderer imports only types from engine/, so the
// value is repeated here (store/defaults.test.ts checks that the two agree).
export const DEFAULT_GENERATION_SETTINGS: GenerationSettings = { model: 'refree-mini', steps: 6, seed: 42, guidance: 2, width: 256, height: 256, fps: 15, sampler: 'euler' };
