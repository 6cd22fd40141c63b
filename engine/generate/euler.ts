// First-order Euler for the flow-matching ODE dx/dσ = v (DiffSynth's FlowMatchScheduler.step):
//   x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i.
// The last step (σ_N = 0) therefore lands on x − σ_{N−1}·v, the model's x0 prediction.
// Each element is combined in float64 (JS arithmetic) and rounded to float32 once on store.
import type { FlowSolver, SolverStepResult } from './types.js';

export class EulerSolver implements FlowSolver {
  readonly name = 'euler' as const;
  private nextIndex = 0;

  /** `sigmas`: N+1 values ending in 0 (FlowSchedule.sigmas). */
  constructor(private readonly sigmas: Float64Array) {
    if (sigmas.length < 2) throw new RangeError('EulerSolver: need at least 2 sigmas (one step)');
  }

  step(i: number, x: Float32Array, v: Float32Array): SolverStepResult {
    checkStep('EulerSolver', i, this.nextIndex, this.sigmas.length - 1, x, v);
    this.nextIndex = i + 1;
    const sigma = this.sigmas[i]!;
    const dt = this.sigmas[i + 1]! - sigma;
    const n = x.length;
    const next = new Float32Array(n);
    const x0 = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const xk = x[k]!;
      const vk = v[k]!;
      next[k] = xk + dt * vk;
      x0[k] = xk - sigma * vk;
    }
    return { next, x0 };
  }
}

/** Shared argument checks: steps in order, matching lengths. */
export function checkStep(who: string, i: number, expected: number, steps: number, x: Float32Array, v: Float32Array): void {
  if (i !== expected) throw new RangeError(`${who}: step ${i} called, expected step ${expected} (steps must run 0, 1, …, ${steps - 1} in order)`);
  if (i >= steps) throw new RangeError(`${who}: step ${i} is past the last step ${steps - 1}`);
  if (x.length !== v.length) throw new RangeError(`${who}: sample has ${x.length} elements but velocity has ${v.length}`);
}
