// What the GPU check measures and at which sizes. `gpu` is the product's headline: the Wan2.2 TI2V-5B
// DiT and VAE at full size with the ReFree speech modules, 480×480, 81 frames at 15 fps; `local` is
// the same list of measurements at sizes a 2-core CI machine runs in about a minute. Both write the
// same JSON fields; the sizes used are part of the output.
import type { DitConfig, ModelArchitecture, VaeConfig } from '../../engine/model/config.js';
import { TINY, WAN22_TI2V_5B } from '../../engine/model/config.js';
import type { ReFreeConfig } from '../../engine/model/refree/config.js';
import { REFREE_5B, refreeConfigFor } from '../../engine/model/refree/config.js';

export type CheckMode = 'gpu' | 'local';

export const STAGES = ['probe', 'attention', 'weights', 'dit', 'vae', 'precision', 'ditSpeech', 'loraSft'] as const;
export type StageName = (typeof STAGES)[number];

export interface LatentGrid {
  /** Latent frames (frame 0 is the reference image's latent, at timestep 0). */
  frames: number;
  h: number;
  w: number;
}

export interface CheckPlan {
  mode: CheckMode;
  seed: number;
  arch: ModelArchitecture;
  refree: ReFreeConfig;
  /** The DiT's input grid per run (one chunk of the generation). */
  latent: LatentGrid;
  /** Video frames, height, width that grid decodes to. */
  pixels: { frames: number; height: number; width: number };
  fps: number;
  /** DiT weights and activations. */
  dtype: 'float16';
  /** Sampler steps the frames-per-second projection is made for. */
  projectSteps: readonly number[];
  /** Forward passes per step with speech guidance on (the product's default guidance 4.5 → 2). */
  guidancePasses: number;
  /** float16 vs float32: a DiT of reduced width and full depth, and a reduced VAE, on `latent`. */
  precision: { dit: DitConfig; vae: VaeConfig };
  lora: { rank: number };
  /** Seconds each stage may take; the whole run stops at `totalSeconds` whatever happens. */
  budgets: Record<StageName, number>;
  totalSeconds: number;
  /** Timed DiT runs after the warm-up run (fewer when the stage's time runs short). */
  timedRuns: number;
}

/** Full size, for an NVIDIA machine: every number the product's plans depend on. */
export function gpuPlan(seed = 2026): CheckPlan {
  const dit = WAN22_TI2V_5B.dit;
  return {
    mode: 'gpu',
    seed,
    arch: WAN22_TI2V_5B,
    refree: REFREE_5B,
    latent: { frames: 21, h: 30, w: 30 },
    pixels: { frames: 81, height: 480, width: 480 },
    fps: 15,
    dtype: 'float16',
    projectSteps: [50, 8],
    guidancePasses: 2,
    // Head width 128 as in the 5B model (attention-logit range is what fp16 risks), 30 blocks.
    precision: {
      dit: { ...dit, dim: 512, heads: 4, ffnDim: 2304 },
      vae: { ...WAN22_TI2V_5B.vae, encDim: 32, decDim: 32 },
    },
    lora: { rank: 32 },
    budgets: { probe: 60, attention: 60, weights: 150, dit: 150, vae: 90, precision: 75, ditSpeech: 120, loraSft: 90 },
    totalSeconds: 530,
    timedRuns: 3,
  };
}

const LOCAL_DIT: DitConfig = { ...TINY.dit, dim: 128, ffnDim: 256, heads: 2, layers: 2, freqDim: 16, textDim: 32, textLen: 8 };

/** Reduced sizes for the CPU (CI): the same stages and fields, finished in about a minute. */
export function localPlan(seed = 2026): CheckPlan {
  const arch: ModelArchitecture = { name: 'gpu-check-local', dit: LOCAL_DIT, vae: TINY.vae, t5: null };
  return {
    mode: 'local',
    seed,
    arch,
    refree: refreeConfigFor(LOCAL_DIT, { speechDim: 12, hidden: 16, mlpHidden: 32, kernelSizes: [1, 3, 7] }),
    latent: { frames: 3, h: 10, w: 10 },
    pixels: { frames: 9, height: 160, width: 160 },
    fps: 15,
    dtype: 'float16',
    projectSteps: [50, 8],
    guidancePasses: 2,
    precision: { dit: { ...LOCAL_DIT, layers: 4 }, vae: TINY.vae },
    lora: { rank: 4 },
    budgets: { probe: 20, attention: 45, weights: 20, dit: 30, vae: 30, precision: 30, ditSpeech: 30, loraSft: 30 },
    totalSeconds: 150,
    timedRuns: 2,
  };
}

export function planFor(mode: CheckMode, seed?: number): CheckPlan {
  return mode === 'gpu' ? gpuPlan(seed) : localPlan(seed);
}
