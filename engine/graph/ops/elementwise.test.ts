import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { emitNodes } from '../onnx/serialize.js';
import { grad } from '../autodiff.js';
import { cos, erf, mul, relu, sin, softplus } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { evaluate } from '../../exec/run-once.js';

// Reference values from CPython's math.erf (correctly rounded to double in this range).
const ERF_REF: [number, number][] = [
  [0, 0],
  [0.1, 0.1124629160182849],
  [-0.5, -0.5204998778130465],
  [1, 0.8427007929497149],
  [1.5, 0.9661051464753108],
  [-2, -0.9953222650189527],
  [3, 0.9999779095030014],
  [3.5, 0.9999992569016276],
  [4.5, 0.9999999998033839],
  [5.5, 0.9999999999999927],
  [6, 1],
  [-10, -1],
];

test('float64 Erf uses the series lowering and matches erf to 5e-16 over the whole line', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [ERF_REF.length]);
  const y = erf(x);
  // ORT CPU has no float64 Erf kernel, so the emitted graph must not contain one.
  assert.ok(!emitNodes(g, [y]).some((n) => n.opType === 'Erf'));
  const [out] = await evaluate(g, [y], { x: Float64Array.from(ERF_REF, ([v]) => v) });
  ERF_REF.forEach(([v, ref], i) => assert.ok(Math.abs(out![i]! - ref) <= 5e-16, `erf(${v}) = ${out![i]}, expected ${ref}`));
});

test('float32 Erf and Softplus: fused kernels match their lowerings and a JS reference to 1e-5', async () => {
  const n = 64;
  const xs = Float32Array.from({ length: n }, (_, i) => -7 + (14 * i) / (n - 1));
  const g = new Graph();
  const x = g.input('x', 'float32', [n]);
  const e = erf(x);
  const s = softplus(x);
  assert.ok(emitNodes(g, [e, s]).some((nd) => nd.opType === 'Erf'), 'float32 keeps the fused Erf node');
  const [fe, fs] = await evaluate(g, [e, s], { x: xs });
  const [le, ls] = await evaluate(g, [e, s], { x: xs }, true);
  for (let i = 0; i < n; i++) {
    const v = xs[i]!;
    const sp = Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0);
    assert.ok(Math.abs(fe![i]! - le![i]!) <= 1e-5, `erf(${v}): fused ${fe![i]} vs lowered ${le![i]}`);
    assert.ok(Math.abs(fs![i]! - sp) <= 1e-5 * Math.max(1, sp), `softplus(${v}): fused ${fs![i]} vs ${sp}`);
    assert.ok(Math.abs(ls![i]! - sp) <= 1e-5 * Math.max(1, sp), `softplus(${v}): lowered ${ls![i]} vs ${sp}`);
  }
  const refIdx = ERF_REF.filter(([v]) => Math.abs(v) <= 7);
  const g2 = new Graph();
  const x2 = g2.input('x', 'float32', [refIdx.length]);
  const [fe2] = await evaluate(g2, [erf(x2)], { x: Float32Array.from(refIdx, ([v]) => v) });
  refIdx.forEach(([v, ref], i) => assert.ok(Math.abs(fe2![i]! - ref) <= 1e-6, `float32 erf(${v})`));
});

test('float64 Softplus lowering matches log(1+exp(x)) without overflow', async () => {
  const xs = Float64Array.from([-800, -30, -1, -1e-3, 0, 0.5, 3, 40, 800]);
  const g = new Graph();
  const x = g.input('x', 'float64', [xs.length]);
  const [out] = await evaluate(g, [softplus(x)], { x: xs });
  xs.forEach((v, i) => {
    const ref = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    assert.ok(Math.abs(out![i]! - ref) <= 1e-15 * Math.max(1, Math.abs(ref)), `softplus(${v}) = ${out![i]}, expected ${ref}`);
  });
});

/** Feeds x (kept away from 0 where the op has a kink) and a fixed weight so the gradient is not trivial. */
function unaryCheck(f: (x: Tensor) => Tensor, xs: Float64Array) {
  return gradcheck(
    (g) => {
      const x = g.input('x', 'float64', [3, 5]);
      const c = g.input('c', 'float64', [3, 5]);
      return { loss: reduceSum(mul(f(x), c)), wrt: [x] };
    },
    { x: xs, c: seededValues(15, 99) },
  );
}

const cases: [string, (x: Tensor) => Tensor, Float64Array][] = [
  ['Erf', erf, seededValues(15, 7, -2.5, 2.5)],
  ['Cos', cos, seededValues(15, 8, -3, 3)],
  ['Sin', sin, seededValues(15, 9, -3, 3)],
  ['Softplus', softplus, seededValues(15, 10, -4, 4)],
  ['Relu', relu, seededValues(15, 11).map((v) => Math.sign(v) * (0.1 + Math.abs(v)))],
];
for (const [name, f, xs] of cases) {
  test(`${name} VJP matches float64 finite differences`, async () => {
    const r = await unaryCheck(f, xs);
    assert.ok(r.maxRelError <= 1e-6, `${name}: max rel error ${r.maxRelError} (${r.worst})`);
  });
}

test('Relu VJP is exactly the step function (0 where x <= 0)', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [4]);
  const loss = reduceSum(relu(x));
  const [dx] = grad(loss, [x]);
  const [out] = await evaluate(g, [dx!], { x: Float64Array.from([-1, 0, 0.5, 2]) });
  assert.deepEqual(Array.from(out!), [0, 0, 1, 1]);
});
