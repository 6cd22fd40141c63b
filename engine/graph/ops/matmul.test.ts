import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck } from '../../exec/gradcheck.js';
import { matmul, gemm, linear } from './matmul.js';
import { reduceSum } from './reduce.js';
import { mul, tanh } from './elementwise.js';
import { ShapeError } from '../errors.js';
import { Graph } from '../graph.js';

test('MatMul VJP (batched activations, 2-D weight) matches float64 finite differences', async () => {
  const r = await gradcheck((g) => {
    const x = g.input('x', 'float64', [2, 3, 4]);
    const w = g.input('w', 'float64', [4, 5]);
    const loss = reduceSum(tanh(matmul(x, w)));
    return { loss, wrt: [x, w] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('MatMul VJP with broadcast batch axes', async () => {
  const r = await gradcheck((g) => {
    const a = g.input('a', 'float64', [2, 1, 3, 4]);
    const b = g.input('b', 'float64', [3, 4, 2]);
    return { loss: reduceSum(mul(matmul(a, b), matmul(a, b))), wrt: [a, b] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('Gemm VJP for every transpose combination', async () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const r = await gradcheck((g) => {
        const a = g.input('a', 'float64', transA ? [4, 3] : [3, 4]);
        const b = g.input('b', 'float64', transB ? [5, 4] : [4, 5]);
        const c = g.input('c', 'float64', [5]);
        return { loss: reduceSum(tanh(gemm(a, b, c, { transA, transB, alpha: 0.7, beta: 1.3 }))), wrt: [a, b, c] };
      });
      assert.ok(r.maxRelError <= 1e-6, `transA=${transA} transB=${transB}: ${r.maxRelError} (${r.worst})`);
    }
  }
});

test('linear layer uses [out, in] weights', async () => {
  const r = await gradcheck((g) => {
    const x = g.input('x', 'float64', [3, 4]);
    const w = g.input('w', 'float64', [6, 4]);
    const b = g.input('b', 'float64', [6]);
    return { loss: reduceSum(tanh(linear(x, w, b))), wrt: [x, w, b] };
  });
  assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
});

test('MatMul with mismatched inner dimensions fails at build time naming the op, both shapes and the caller', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4, 5]);
  assert.throws(
    () => matmul(a, b),
    (e: unknown) => e instanceof ShapeError && /MatMul/.test(e.message) && /\[2,3\]/.test(e.message) && /\[4,5\]/.test(e.message) && /matmul\.test\.ts/.test(e.message),
  );
});
