import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EulerSolver } from './euler.js';
import { flowSchedule, SCHEDULE_PRESETS } from './schedule.js';
import { UniPCSolver, solve } from './unipc.js';
import type { UniPCOptions } from './unipc.js';
import { gaussianFlow, gaussianVelocity, maxAbsDiff, pointVelocity } from './flow-fields.test-helper.js';

const START: Float32Array = Float32Array.from([-1.7, -0.4, 0.3, 1.2, 2.1]);

function run(solver: 'unipc' | 'euler', steps: number, shift: number, field: (x: Float32Array, s: number) => Float32Array, opts: UniPCOptions = {}, sigmaMax = 0.999): { xs: Float32Array[]; x0s: Float32Array[]; sigma0: number } {
  const sch = flowSchedule({ steps, shift, sigmaMax, integerTimesteps: true });
  const s = solver === 'unipc' ? new UniPCSolver(sch.sigmas, opts) : new EulerSolver(sch.sigmas);
  let x = START;
  const xs: Float32Array[] = [];
  const x0s: Float32Array[] = [];
  for (let i = 0; i < steps; i++) {
    const r = s.step(i, x, field(x, sch.sigmas[i]!));
    x = r.next;
    xs.push(x);
    x0s.push(r.x0);
  }
  return { xs, x0s, sigma0: sch.sigmas[0]! };
}

// Golden values computed by running Wan's FlowUniPCMultistepScheduler math in numpy (float64; the
// script is kept out of this repository because it transcribes the official code), on the Gaussian
// field μ 0.6, s 0.25, official schedule (shift 5).
// Our state is float32, so agreement is to ~3e−7.
test('UniPC matches a transcription of the official scheduler (N=6 and N=50, shift 5)', () => {
  const field = gaussianVelocity(0.6, 0.25);
  const sch6 = flowSchedule({ steps: 6, shift: 5, ...SCHEDULE_PRESETS.wanUniPC });
  assert.deepEqual([...sch6.timesteps], [999, 961, 908, 833, 713, 499]);
  const r6 = run('unipc', 6, 5, field, {}, SCHEDULE_PRESETS.wanUniPC.sigmaMax);
  assert.ok(maxAbsDiff(r6.xs[2]!, [-1.3179634020798512, -0.2335875171510037, 0.35030719011837563, 1.1010289566075775, 1.8517507230967796]) < 1e-6);
  assert.ok(maxAbsDiff(r6.x0s[2]!, [0.5893446199849024, 0.5974922761942401, 0.6018794756915757, 0.6075201607595786, 0.6131608458275819]) < 1e-6);
  assert.ok(maxAbsDiff(r6.xs[5]!, [0.49736993578925726, 0.5758462058750332, 0.6181026589981432, 0.6724323844421419, 0.7267621098861408]) < 1e-6);
  const r50 = run('unipc', 50, 5, field, {}, SCHEDULE_PRESETS.wanUniPC.sigmaMax);
  assert.ok(maxAbsDiff(r50.xs[20]!, [-1.4098099343690804, -0.273635506608185, 0.3381507237246051, 1.1247330198667638, 1.9113153160089233]) < 1e-6);
  assert.ok(maxAbsDiff(r50.xs[49]!, [0.201504208979621, 0.5062147590962479, 0.6702896706975089, 0.8812431284705584, 1.0921965862436085]) < 1e-6);
});

test('UniPC ends exactly on the last x0 prediction (σ = 0 handled explicitly), at any order', () => {
  for (const opts of [{}, { lowerOrderFinal: false }, { order: 3 }]) {
    const r = run('unipc', 5, 5, gaussianVelocity(0.2, 0.5), opts);
    assert.deepEqual([...r.xs[4]!], [...r.x0s[4]!]);
    for (const v of r.xs[4]!) assert.ok(Number.isFinite(v));
  }
  const one = run('unipc', 1, 1, gaussianVelocity(0.2, 0.5));
  assert.deepEqual([...one.xs[0]!], [...one.x0s[0]!]);
});

test('UniPC is exact on a straight flow (single data point)', () => {
  for (const N of [2, 5, 20]) {
    const r = run('unipc', N, 5, pointVelocity(-0.3));
    assert.ok(maxAbsDiff(r.xs[N - 1]!, new Float32Array(5).fill(-0.3)) < 1e-6, `N=${N}: ${[...r.xs[N - 1]!]}`);
  }
});

test('UniPC (order 2, bh2) converges at order ≈ 2 on the Gaussian flow (N = 8, 16, 32, 64)', () => {
  const mu = 0.5;
  const s = 1;
  const errs = [8, 16, 32, 64].map((N) => {
    const r = run('unipc', N, 1, gaussianVelocity(mu, s));
    return maxAbsDiff(r.xs[N - 1]!, gaussianFlow(mu, s, START, r.sigma0, 0));
  });
  const orders = errs.slice(1).map((e, k) => Math.log2(errs[k]! / e));
  const slope = Math.log2(errs[0]! / errs[3]!) / 3;
  const msg = `observed orders ${orders.map((v) => v.toFixed(3))}, slope ${slope.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2))})`;
  for (const o of orders) assert.ok(o > 1.6 && o < 2.6, msg);
  assert.ok(slope > 1.8 && slope < 2.4, msg);
});

test('at the Wan setting (shift 5) UniPC beats Euler at equal steps, and bh1 / order 3 / no corrector still converge', () => {
  const mu = 0.5;
  const s = 1;
  const err = (solver: 'unipc' | 'euler', N: number, opts: UniPCOptions = {}, shift = 5): number => {
    const r = run(solver, N, shift, gaussianVelocity(mu, s), opts);
    return maxAbsDiff(r.xs[N - 1]!, gaussianFlow(mu, s, START, r.sigma0, 0));
  };
  for (const N of [16, 32, 50]) assert.ok(err('unipc', N) < err('euler', N) / 4, `N=${N}: unipc ${err('unipc', N)} vs euler ${err('euler', N)}`);
  for (const opts of [{ variant: 'bh1' as const }, { order: 3 }, { disableCorrector: Array.from({ length: 64 }, (_, i) => i) }]) {
    // At shift 5 error terms of opposite sign cancel by chance at some N (checked against the numpy
    // transcription: same values), so convergence of the variants is checked without the shift.
    const e16 = err('unipc', 16, opts, 1);
    const e64 = err('unipc', 64, opts, 1);
    assert.ok(e64 < e16 / 6, `${JSON.stringify(opts).slice(0, 30)}: ${e16} → ${e64}`);
  }
});

test('UniPC rejects σ_max = 1 (λ = −∞) and out-of-order steps', () => {
  assert.throws(() => new UniPCSolver(Float64Array.from([1, 0.5, 0])), /needs σ < 1/);
  const solver = new UniPCSolver(Float64Array.from([0.9, 0.5, 0]));
  assert.throws(() => solver.step(1, new Float32Array(2), new Float32Array(2)), /expected step 0/);
});

test('solve() solves a small dense system', () => {
  const y = solve([[2, 1, 0], [1, 3, 1], [0, 1, 4]], [3, 5, 5]);
  assert.ok(maxAbsDiff(y, [1, 1, 1]) < 1e-12);
});
