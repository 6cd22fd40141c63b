// Generation defaults (steps, shift, guidance, size, fps, chunking) come from the model package: a
// package may carry `generation.json` beside refree.json (the demo package does); otherwise the values
// below, which follow the Wan2.2 TI2V-5B reference (wan2.2-ti2v-5b.md §4) and the paper's 15 fps.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const GENERATION_DEFAULTS_FILE = 'generation.json';

export interface GenerationDefaults {
  /** Square pixel size of the generated video (a multiple of the VAE's spatial factor). */
  size: number;
  /** Square size of the written video when it differs from `size` (frames are resized). */
  outputSize?: number;
  fps: number;
  steps: number;
  shift: number;
  /** Speech guidance scale (1 = one pass per step). */
  guidance: number;
  solver: 'euler' | 'unipc';
  /** Latent frames per chunk, motion frames included. */
  chunkLatentFrames: number;
  /** Latent frames each chunk after the first takes from the end of the previous one (≥ 1). */
  motionLatentFrames: number;
  /**
   * Each chunk after the first also sees the portrait's latent as its frame 0 (chunks.ts). Only for a
   * model trained so (`refree train sft --anchor-share`); others were never shown such a frame.
   */
  portraitAnchor?: boolean;
}

export const BUILTIN_DEFAULTS: GenerationDefaults = { size: 480, fps: 15, steps: 40, shift: 3, guidance: 4.5, solver: 'unipc', chunkLatentFrames: 21, motionLatentFrames: 2 };

export async function packageDefaults(pkgDir: string | null): Promise<GenerationDefaults> {
  if (!pkgDir) return { ...BUILTIN_DEFAULTS };
  const text = await readFile(path.join(pkgDir, GENERATION_DEFAULTS_FILE), 'utf8').catch(() => null);
  if (!text) return { ...BUILTIN_DEFAULTS };
  return { ...BUILTIN_DEFAULTS, ...(JSON.parse(text) as Partial<GenerationDefaults>) };
}
