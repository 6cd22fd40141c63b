// The generation settings a job carries (model, steps, seed, guidance, size, fps, sampler) with the
// studio's limits: one schema for the service contract (engine/service/contract.ts re-exports it) and
// for render-farm payloads (engine/farm/payload.ts), which sit below the service.
import { z } from 'zod';

export const GenerationSettingsSchema = z.strictObject({
  /** Model package name; "refree-mini" is the built-in model. */
  model: z.string().min(1).max(200),
  steps: z.number().int().min(1).max(200),
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  guidance: z.number().min(0).max(20),
  width: z.number().int().min(64).max(1280).multipleOf(16, 'width must be a multiple of 16'),
  height: z.number().int().min(64).max(1280).multipleOf(16, 'height must be a multiple of 16'),
  fps: z.number().int().min(1).max(60),
  sampler: z.enum(['euler', 'unipc']),
});
export type GenerationSettings = z.infer<typeof GenerationSettingsSchema>;
