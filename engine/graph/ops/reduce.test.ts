import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { grad } from '../autodiff.js';
import { ShapeError } from '../errors.js';
import { mul, tanh } from './elementwise.js';
import { reduceLogSumExp, reduceMax, reduceSum } from './reduce.js';
import { evaluate } from '../../exec/run-once.js';

/** loss = Σ c·tanh(reduce(x)), with a fixed weight c so that every output contributes differently. */
function reduceCheck(f: (x: Tensor) => Tensor, outSize: number) {
  return gradcheck(
    (g) => {
      const x = g.input('x', 'float64', [2, 3, 4]);
      const y = f(x);
      const c = g.input('c', 'float64', y.shape);
      return { loss: reduceSum(mul(tanh(y), c)), wrt: [x] };
    },
    // Seeded values are distinct, so every arg-max is unique and ReduceMax is differentiable there.
    { x: seededValues(24, 5, -2, 2), c: seededValues(outSize, 6) },
  );
}

const variants: [string, readonly number[] | undefined, boolean, number][] = [
  ['last axis', [-1], false, 6],
  ['axes [0,2] keepdims', [0, 2], true, 3],
  ['all axes', undefined, false, 1],
];
for (const [label, axes, keep, outSize] of variants) {
  test(`ReduceMax VJP (${label}) matches float64 finite differences`, async () => {
    const r = await reduceCheck((x) => reduceMax(x, axes, keep), outSize);
    assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
  });
  test(`ReduceLogSumExp VJP (${label}) matches float64 finite differences`, async () => {
    const r = await reduceCheck((x) => reduceLogSumExp(x, axes, keep), outSize);
    assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
  });
}

test('ReduceMax forward and tied gradient: ties share the gradient equally', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [2, 3]);
  const y = reduceMax(x, [1]);
  const [dx] = grad(reduceSum(y), [x]);
  const [out, d] = await evaluate(g, [y, dx!], { x: Float64Array.from([1, 3, 3, -2, -1, -5]) });
  assert.deepEqual(Array.from(out!), [3, -1]);
  assert.deepEqual(Array.from(d!), [0, 0.5, 0.5, 0, 1, 0]);
});

test('ReduceLogSumExp forward is stable for large inputs and matches a JS reference', async () => {
  const xs = Float64Array.from([1000, 1001, 999, -3, 0.5, 2]);
  const g = new Graph();
  const x = g.input('x', 'float64', [2, 3]);
  const [out] = await evaluate(g, [reduceLogSumExp(x, [1], true)], { x: xs });
  for (let r = 0; r < 2; r++) {
    const row = Array.from(xs.subarray(3 * r, 3 * r + 3));
    const m = Math.max(...row);
    const ref = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    assert.ok(Math.abs(out![r]! - ref) <= 1e-12 * Math.abs(ref), `row ${r}: ${out![r]} vs ${ref}`);
  }
});

test('reduceMax with an out-of-range axis throws ShapeError naming the op and shape', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3]);
  assert.throws(() => reduceMax(x, [2]), (e: unknown) => e instanceof ShapeError && /ReduceMax/.test(e.message) && /\[2,3\]/.test(e.message));
  assert.throws(() => reduceLogSumExp(x, [-3]), (e: unknown) => e instanceof ShapeError && /ReduceLogSumExp/.test(e.message));
});
