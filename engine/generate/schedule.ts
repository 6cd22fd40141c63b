// The flow-matching σ schedule with timestep shift (wan2.2-ti2v-5b.md §4).
//
//   σ_i = linspace(σ_max, 0, N+1)[:N]          (the endpoint 0 is dropped…)
//   σ_i ← s·σ_i / (1 + (s−1)·σ_i)               (shift s > 1 spends more steps at high noise)
//   σ_N = 0                                      (…and appended again after the shift)
//   timestep_i = σ_i·1000
//
// Two reference conventions differ only in details, both selectable:
// - official Wan FlowUniPCMultistepScheduler: σ_max = float32(1 − 1/1000) = 0.99900001287…, timesteps
//   truncated to integers (`.to(torch.int64)`) before they reach the model;
// - DiffSynth FlowMatchScheduler (Euler): σ_max = 1.0, float timesteps.
// Both keep σ in float32 tensors, so σ is rounded to float32 by default (`float32Sigmas`); the
// solvers then do all their coefficient arithmetic on those values in float64.

export interface ScheduleOptions {
  /** Number of model evaluations N (≥ 1). */
  steps: number;
  /** Timestep shift s (> 0); 1 = no shift. TI2V-5B default 5 (3 is suggested for 480p). */
  shift: number;
  /** First σ before the shift. Default `SIGMA_MAX_UNIPC` (use 1 for the DiffSynth convention). */
  sigmaMax?: number;
  /** Training timesteps the model's time embedding expects (1000 for Wan). */
  numTrainTimesteps?: number;
  /** Truncate timesteps toward zero as the official UniPC scheduler's int64 cast does. Default false. */
  integerTimesteps?: boolean;
  /** Round σ to float32 as both references store them. Default true. */
  float32Sigmas?: boolean;
}

export interface FlowSchedule {
  steps: number;
  shift: number;
  /** N+1 values, strictly decreasing, sigmas[N] = 0. */
  sigmas: Float64Array;
  /** N values: the model timestep of each step. */
  timesteps: Float64Array;
}

/** Official Wan σ_max: 1 − 1/1000 as the float32 the scheduler stores (0.9990000128746033). */
export const SIGMA_MAX_UNIPC = Math.fround(1 - 1 / 1000);

/** The two reference conventions, for spreading into ScheduleOptions. */
export const SCHEDULE_PRESETS = {
  /** Wan's FlowUniPCMultistepScheduler (generate.py with --sample_solver unipc). */
  wanUniPC: { sigmaMax: SIGMA_MAX_UNIPC, integerTimesteps: true, float32Sigmas: true },
  /** DiffSynth-Studio's FlowMatchScheduler(shift, sigma_min=0, extra_one_step=True). */
  diffSynth: { sigmaMax: 1, integerTimesteps: false, float32Sigmas: true },
} as const;

/** σ' = s·σ / (1 + (s−1)·σ): maps [0, 1] onto itself, fixes 0 and 1. */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

export function flowSchedule(opts: ScheduleOptions): FlowSchedule {
  const { steps, shift } = opts;
  const sigmaMax = opts.sigmaMax ?? SIGMA_MAX_UNIPC;
  const numTrain = opts.numTrainTimesteps ?? 1000;
  const toF32 = opts.float32Sigmas ?? true;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`flowSchedule: steps must be an integer ≥ 1 (got ${steps})`);
  if (!(shift > 0) || !Number.isFinite(shift)) throw new RangeError(`flowSchedule: shift must be a finite number > 0 (got ${shift})`);
  if (!(sigmaMax > 0 && sigmaMax <= 1)) throw new RangeError(`flowSchedule: sigmaMax must be in (0, 1] (got ${sigmaMax})`);

  const sigmas = new Float64Array(steps + 1);
  const timesteps = new Float64Array(steps);
  // numpy.linspace's arithmetic: y_i = i·((stop − start)/div) + start, so the float64 values match the
  // reference bit for bit before the float32 rounding.
  const delta = (0 - sigmaMax) / steps;
  for (let i = 0; i < steps; i++) {
    const s = shiftSigma(i * delta + sigmaMax, shift);
    const t = s * numTrain; // from the float64 σ, as the reference computes timesteps before its float32 cast
    timesteps[i] = opts.integerTimesteps ? Math.trunc(t) : toF32 ? Math.fround(t) : t;
    sigmas[i] = toF32 ? Math.fround(s) : s;
  }
  sigmas[steps] = 0;
  for (let i = 0; i < steps; i++) {
    if (!(sigmas[i]! > sigmas[i + 1]!)) throw new RangeError(`flowSchedule: σ is not strictly decreasing at step ${i} (${sigmas[i]} → ${sigmas[i + 1]}); too many steps for float32 σ?`);
  }
  return { steps, shift, sigmas, timesteps };
}
