// The settings of the two training stages, their defaults and their checks. One shape for the CLI, the
// studio's wizard, queued training jobs and the model card, so a run is described the same everywhere.
import type { RegionWeights } from './regions.js';
import { PAPER_REGION_WEIGHTS } from './regions.js';
import type { TrainableSettings } from './trainable.js';

export interface CommonSettings extends TrainableSettings {
  seed: number;
  /** Optimizer updates. */
  steps: number;
  /** Items (SFT) or tuples (DPO) per micro-batch. */
  batch: number;
  /** Micro-batches per update (gradient accumulation). */
  accumulation: number;
  /** Latent frames per training window, the clean reference frame included. */
  frames: number;
  lr: number;
  warmup: number;
  /** The cosine schedule ends at lr·minLrRatio. */
  minLrRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Timestep shift of the σ draw (default: the package's sampler shift). */
  shift: number;
  /** Skip the noisiest timesteps: σ is drawn from u in [0, maxU) before the shift (1 = all). */
  maxU: number;
  /** Per-block activation recomputation (less memory, about one more forward per step). */
  recompute: boolean;
  checkpointEvery: number;
  /** A sample video every N steps (0: none). */
  sampleEvery: number;
}

export interface SftSettings extends CommonSettings {
  regions: RegionWeights;
  /** Probability that an item's speech is masked whole (the null speech guidance uses). */
  speechDrop: number;
  /**
   * Share of windows that start at a clip's first frame, whose clean reference is the one-frame latent
   * of the portrait, as every generated video's first chunk does (0: windows start uniformly, so with
   * 4-second clips and 9-frame windows only about 1 in 22 starts there).
   */
  portraitStart: number;
  /**
   * Windows that start after a clip's first frame stand for a later chunk, whose clean reference is the
   * previous chunk's generated (slightly off) last latent frame: their reference gets Gaussian noise of
   * standard deviation u·motionNoise (u uniform per window), so the DiT learns not to hand such errors
   * on. 0: the clean latent.
   */
  motionNoise: number;
  /**
   * Share of windows trained as a later chunk with the portrait anchor: frame 0 is the clip's first
   * (portrait) latent instead of the window's own, frame 1 the motion frame, both clean references
   * (frame 1 noised as `motionNoise` says). A package whose generation settings name the portrait
   * anchor samples every chunk after the first so, and keeps the face of the portrait however long the
   * speech. 0: every window has one reference frame, its own.
   */
  anchorShare: number;
  /**
   * Most by which a faint face's face and lip weights are raised (face-contrast.ts): each clip's regional
   * weights above `rest` are multiplied by (DETAIL_REFERENCE / its portrait's face contrast)², between 1
   * and this. Absent: every clip weighs the same (and the run records and hashes the settings it did
   * before the option existed).
   */
  faceBalance?: number;
}

export interface DpoSettings extends CommonSettings {
  /** β of the DPO loss in the diffusers convention (losses.ts): 2500 here = 5000 in the −½β form. */
  beta: number;
  /** Speech-masking ratios of the generated negatives, best first (the paper: 0, 0.2, 0.4). */
  maskRatios: number[];
  /** EMA decay of the reference (1 = a frozen copy of the starting policy). */
  refDecay: number;
  /** Per-element error weighting of e: 'uniform' (the paper) or 'regional' (the SFT weights). */
  weighting: 'uniform' | 'regional';
  /** Sampler steps when generating the negatives. */
  sampleSteps: number;
  /** Windows per clip used as DPO items (0: every whole window). */
  windowsPerClip: number;
  /**
   * Weight λ of the policy's own error on the ground-truth sample added to the DPO loss (0: the plain
   * DPO objective). Pure DPO can raise that error while it widens the margin; the anchor holds it.
   */
  sftWeight: number;
}

export const SFT_DEFAULTS: Omit<SftSettings, 'shift'> = {
  seed: 0,
  steps: 1000,
  batch: 4,
  accumulation: 1,
  frames: 5,
  lr: 1e-4,
  warmup: 50,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  maxU: 1,
  recompute: false,
  checkpointEvery: 100,
  sampleEvery: 0,
  lora: { rank: 16, alpha: 16, targets: ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] },
  ditGroups: [],
  regions: PAPER_REGION_WEIGHTS,
  speechDrop: 0.1,
  portraitStart: 0,
  motionNoise: 0,
  anchorShare: 0,
};

/** Share of anchored windows when the model trained already samples with the portrait anchor. */
export const ANCHORED_MODEL_SHARE = 0.5;

export const DPO_DEFAULTS: Omit<DpoSettings, 'shift'> = {
  seed: 0,
  steps: 200,
  batch: 1,
  accumulation: 1,
  frames: 5,
  lr: 1e-5,
  warmup: 10,
  minLrRatio: 1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  maxU: 1,
  recompute: false,
  checkpointEvery: 50,
  sampleEvery: 0,
  lora: { rank: 16, alpha: 16, targets: ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] },
  ditGroups: [],
  beta: 2500,
  maskRatios: [0, 0.2, 0.4],
  refDecay: 0.99,
  weighting: 'uniform',
  sampleSteps: 8,
  windowsPerClip: 0,
  sftWeight: 0,
};

export class SettingsError extends Error {
  override name = 'SettingsError';
}

function check(ok: boolean, msg: string): void {
  if (!ok) throw new SettingsError(msg);
}

export function validateCommon(s: CommonSettings): void {
  const int = (v: number, name: string, min: number): void => check(Number.isInteger(v) && v >= min, `${name} must be a whole number of at least ${min} (got ${v})`);
  int(s.seed, 'seed', 0);
  int(s.steps, 'steps', 1);
  int(s.batch, 'batch', 1);
  int(s.accumulation, 'accumulation', 1);
  int(s.frames, 'frames (latent frames per window)', 2);
  int(s.warmup, 'warm-up steps', 0);
  int(s.checkpointEvery, 'checkpoint interval', 1);
  int(s.sampleEvery, 'sample interval', 0);
  check(s.lr > 0 && s.lr < 1, `the learning rate must lie between 0 and 1 (got ${s.lr})`);
  check(s.minLrRatio >= 0 && s.minLrRatio <= 1, `minLrRatio must lie in [0, 1] (got ${s.minLrRatio})`);
  check(s.weightDecay >= 0 && s.weightDecay < 1, `weight decay must lie in [0, 1) (got ${s.weightDecay})`);
  check(s.maxGradNorm > 0, `the gradient clip norm must be > 0 (got ${s.maxGradNorm})`);
  check(s.shift > 0, `the timestep shift must be > 0 (got ${s.shift})`);
  check(s.maxU > 0 && s.maxU <= 1, `maxU must lie in (0, 1] (got ${s.maxU})`);
  if (s.lora) {
    int(s.lora.rank, 'LoRA rank', 1);
    check(Number.isFinite(s.lora.alpha) && s.lora.alpha > 0, `LoRA alpha must be > 0 (got ${s.lora.alpha})`);
    check(s.lora.targets.length > 0, 'LoRA targets must name at least one linear (e.g. q,k,v,o,ffn.0,ffn.2)');
  }
}

export function validateSft(s: SftSettings): SftSettings {
  validateCommon(s);
  check(s.speechDrop >= 0 && s.speechDrop < 1, `speech drop must lie in [0, 1) (got ${s.speechDrop})`);
  check(Number.isFinite(s.motionNoise) && s.motionNoise >= 0, `the motion-frame noise must be a number ≥ 0 (got ${s.motionNoise})`);
  check(s.anchorShare >= 0 && s.anchorShare <= 1, `the share of windows with the portrait anchor must lie in [0, 1] (got ${s.anchorShare})`);
  check(s.anchorShare === 0 || s.frames >= 3, `windows with the portrait anchor need at least 3 latent frames (2 references and 1 to learn; got ${s.frames}): use longer windows, or --anchor-share 0`);
  check(s.faceBalance === undefined || (s.faceBalance >= 1 && s.faceBalance <= 16), `the face balance is the most a faint face's weights are raised, between 1 and 16 (got ${s.faceBalance})`);
  check(s.portraitStart >= 0 && s.portraitStart <= 1, `the share of windows starting at the portrait must lie in [0, 1] (got ${s.portraitStart})`);
  for (const k of ['lip', 'face', 'rest'] as const) check(s.regions[k] >= 0 && Number.isFinite(s.regions[k]), `the ${k} weight must be a number ≥ 0 (got ${s.regions[k]})`);
  check(s.regions.rest > 0 || s.regions.face > 0 || s.regions.lip > 0, 'at least one region weight must be > 0');
  return s;
}

export function validateDpo(s: DpoSettings): DpoSettings {
  validateCommon(s);
  check(s.beta > 0, `β must be > 0 (got ${s.beta})`);
  check(s.maskRatios.length >= 1, 'give at least one masking ratio (e.g. 0,0.2,0.4)');
  s.maskRatios.forEach((r, i) => {
    check(r >= 0 && r <= 1, `masking ratio ${r} must lie in [0, 1]`);
    if (i > 0) check(r > s.maskRatios[i - 1]!, `masking ratios must grow (the negatives are ranked by them): got ${s.maskRatios.join(', ')}`);
  });
  check(s.refDecay >= 0 && s.refDecay <= 1, `the reference EMA decay must lie in [0, 1] (1 = frozen copy; got ${s.refDecay})`);
  check(Number.isInteger(s.sampleSteps) && s.sampleSteps >= 1, `sample steps must be a whole number ≥ 1 (got ${s.sampleSteps})`);
  check(Number.isInteger(s.windowsPerClip) && s.windowsPerClip >= 0, `windows per clip must be a whole number ≥ 0 (got ${s.windowsPerClip})`);
  check(Number.isFinite(s.sftWeight) && s.sftWeight >= 0, `the SFT anchor weight must be a number ≥ 0 (got ${s.sftWeight})`);
  return s;
}
