// The flow-matching sampling loop: seeded noise → N solver steps with guided velocities → clean latent.
//
// TI2V conditioning (wan2.2-ti2v-5b.md §1.5): when `firstFrameLatent` is given, latent frame 0 is the
// clean portrait latent from the start, it is replaced again after every step (the model's output for
// it is discarded), and the model is told so by a per-frame timestep of 0 for frame 0.
// Cancellation: the AbortSignal is checked before every model pass (so a step is never half applied
// to the state) and a CancelledError is thrown. Determinism: the only randomness is the counter-based
// noise of (seed, noiseStream); the same inputs and the same velocity function give the same bits.
import { CancelledError } from '../common/engine-errors.js';
import { EulerSolver } from './euler.js';
import { combineGuidance, guidancePlan } from './guidance.js';
import type { GuidanceOptions } from './guidance.js';
import { gaussianNoise } from './noise.js';
import { flowSchedule, SCHEDULE_PRESETS } from './schedule.js';
import type { FlowSchedule } from './schedule.js';
import { UniPCSolver } from './unipc.js';
import type { UniPCOptions } from './unipc.js';
import type { FlowSolver, LatentShape, StepTime, VelocityFn } from './types.js';

export interface SampleOptions {
  /** Number of steps N (model evaluations per guidance pass). */
  steps: number;
  /** Timestep shift s (TI2V-5B: 5; 3 suggested for 480p). */
  shift: number;
  solver: 'euler' | 'unipc';
  /** Guidance scales; default { audio: 1 } (one pass per step). */
  guidance?: GuidanceOptions;
  /** Noise seed (integer in [0, 2^53)). */
  seed: number;
  /** Noise stream, e.g. the chunk index of a long video (default 0). */
  noiseStream?: number;
  /** Starting noise instead of gaussianNoise(seed, noiseStream) (e.g. to resume or to test). */
  initialNoise?: Float32Array;
  /** [C, F, H, W]. */
  latentShape: LatentShape;
  /** Clean latent of the portrait, [C, 1, H, W] (C·H·W values); enables TI2V conditioning. */
  firstFrameLatent?: Float32Array;
  velocity: VelocityFn;
  /**
   * Called after step `stepIndex` (0-based) of `total` has been applied, with the x0 estimate of that
   * step (frame 0 = the portrait under TI2V). The array is a fresh copy the callee may keep.
   * Awaited if it returns a promise.
   */
  onStep?: (stepIndex: number, total: number, x0Estimate: Float32Array) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * Schedule details. Defaults follow the solver's reference: UniPC → Wan's official schedule
   * (σ_max 0.999, integer timesteps); Euler → DiffSynth's (σ_max 1, float timesteps).
   */
  sigmaMax?: number;
  integerTimesteps?: boolean;
  /** UniPC options (order, variant, lowerOrderFinal, disableCorrector). */
  unipc?: UniPCOptions;
}

export interface SampleResult {
  /** The final latent [C, F, H, W]. */
  latents: Float32Array;
  schedule: FlowSchedule;
  /** Velocity calls made (steps × guidance passes). */
  modelCalls: number;
}

export async function sample(opts: SampleOptions): Promise<SampleResult> {
  const [C, F, H, W] = opts.latentShape;
  for (const d of opts.latentShape) {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`sample: latentShape must be 4 positive integers [C, F, H, W] (got [${opts.latentShape.join(', ')}])`);
  }
  const numel = C * F * H * W;
  const frameSize = H * W;
  const frameStride = F * frameSize; // channel stride
  const z = opts.firstFrameLatent;
  if (z && z.length !== C * frameSize) {
    throw new RangeError(`sample: firstFrameLatent has ${z.length} values, expected C·H·W = ${C}·${H}·${W} = ${C * frameSize} ([C, 1, H, W])`);
  }
  if (opts.initialNoise && opts.initialNoise.length !== numel) throw new RangeError(`sample: initialNoise has ${opts.initialNoise.length} values, expected ${numel}`);

  const preset = opts.solver === 'unipc' ? SCHEDULE_PRESETS.wanUniPC : SCHEDULE_PRESETS.diffSynth;
  const schedule = flowSchedule({
    steps: opts.steps,
    shift: opts.shift,
    sigmaMax: opts.sigmaMax ?? preset.sigmaMax,
    integerTimesteps: opts.integerTimesteps ?? preset.integerTimesteps,
    float32Sigmas: true,
  });
  const solver: FlowSolver = opts.solver === 'unipc' ? new UniPCSolver(schedule.sigmas, opts.unipc) : new EulerSolver(schedule.sigmas);
  const guidance = opts.guidance ?? { audio: 1 };
  const plan = guidancePlan(guidance);
  const N = schedule.steps;

  /** Writes the clean portrait latent into frame 0 of `x` (all channels). */
  const resetFrame0 = (x: Float32Array): void => {
    if (!z) return;
    for (let c = 0; c < C; c++) x.set(z.subarray(c * frameSize, (c + 1) * frameSize), c * frameStride);
  };
  const checkCancelled = (step: number): void => {
    if (opts.signal?.aborted) throw new CancelledError(`generation was cancelled before step ${step + 1} of ${N}`);
  };

  checkCancelled(0);
  let x = opts.initialNoise ? Float32Array.from(opts.initialNoise) : gaussianNoise(opts.seed, opts.noiseStream ?? 0, numel);
  resetFrame0(x);

  let modelCalls = 0;
  for (let i = 0; i < N; i++) {
    const timestep = schedule.timesteps[i]!;
    const frameTimesteps = new Float32Array(F).fill(timestep);
    if (z) frameTimesteps[0] = 0;
    const time: StepTime = { step: i, steps: N, sigma: schedule.sigmas[i]!, timestep, frameTimesteps };

    const outputs: Float32Array[] = [];
    for (const branch of plan.branches) {
      checkCancelled(i);
      const v = await opts.velocity(x, time, branch);
      modelCalls++;
      if (!(v instanceof Float32Array) || v.length !== numel) {
        throw new RangeError(`sample: velocity for pass '${branch.name}' at step ${i} returned ${v instanceof Float32Array ? v.length + ' values' : typeof v}, expected a Float32Array of ${numel}`);
      }
      outputs.push(v);
    }
    const v = combineGuidance(guidance, outputs, `sample step ${i}`);
    const { next, x0 } = solver.step(i, x, v);
    resetFrame0(next);
    x = next;
    if (opts.onStep) {
      const preview = Float32Array.from(x0);
      resetFrame0(preview);
      await opts.onStep(i, N, preview);
    }
  }
  return { latents: x, schedule, modelCalls };
}
