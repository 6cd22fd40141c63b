import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EulerSolver } from './euler.js';
import { flowSchedule } from './schedule.js';
import { gaussianFlow, gaussianVelocity, maxAbsDiff, pointVelocity } from './flow-fields.test-helper.js';

const START: Float32Array = Float32Array.from([-1.7, -0.4, 0.3, 1.2, 2.1]);

function integrate(steps: number, shift: number, field: (x: Float32Array, s: number) => Float32Array, sigmaMax = 1): { x: Float32Array; sigma0: number } {
  const sch = flowSchedule({ steps, shift, sigmaMax });
  const solver = new EulerSolver(sch.sigmas);
  let x = START;
  for (let i = 0; i < steps; i++) x = solver.step(i, x, field(x, sch.sigmas[i]!)).next;
  return { x, sigma0: sch.sigmas[0]! };
}

test('Euler step is x + (σ_{i+1} − σ_i)·v and its x0 estimate is x − σ_i·v', () => {
  const sigmas = Float64Array.from([0.75, 0.25, 0]);
  const solver = new EulerSolver(sigmas);
  const r = solver.step(0, Float32Array.from([1, -2]), Float32Array.from([4, 8]));
  assert.deepEqual([...r.next], [1 - 0.5 * 4, -2 - 0.5 * 8]);
  assert.deepEqual([...r.x0], [1 - 0.75 * 4, -2 - 0.75 * 8]);
  assert.throws(() => solver.step(0, Float32Array.from([1, 2]), Float32Array.from([1, 2])), /expected step 1/);
});

test('Euler is exact on a straight flow (single data point), any N', () => {
  for (const N of [1, 3, 10]) {
    const { x } = integrate(N, 5, pointVelocity(0.7));
    assert.ok(maxAbsDiff(x, new Float32Array(5).fill(0.7)) < 1e-6, `N=${N}: ${[...x]}`);
  }
});

test('Euler converges at order 1 on the Gaussian flow (N = 8, 16, 32, 64)', () => {
  const mu = 0.5;
  const s = 1;
  const errs = [8, 16, 32, 64].map((N) => {
    const { x, sigma0 } = integrate(N, 1, gaussianVelocity(mu, s), 0.999);
    return maxAbsDiff(x, gaussianFlow(mu, s, START, sigma0, 0));
  });
  const orders = errs.slice(1).map((e, k) => Math.log2(errs[k]! / e));
  const slope = Math.log2(errs[0]! / errs[3]!) / 3;
  for (const o of orders) assert.ok(o > 0.85 && o < 1.15, `observed orders ${orders.map((v) => v.toFixed(3))} (errors ${errs.map((e) => e.toExponential(2))})`);
  assert.ok(slope > 0.9 && slope < 1.1, `slope ${slope}`);
});
