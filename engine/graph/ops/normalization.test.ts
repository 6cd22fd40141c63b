import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import type { GradCheckOptions } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { emitNodes } from '../onnx/serialize.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { Feeds } from '../../runtime/session.js';
import { mul } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { layerNorm, layerNormPrimitive, rmsNorm, rmsNormPrimitive, softmax } from './normalization.js';
import { evaluate } from '../../exec/run-once.js';

// JS references over the last `n` elements of each row (n = product of the normalized axes).
function refNorm(x: ArrayLike<number>, n: number, eps: number, rms: boolean, w?: ArrayLike<number>, b?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let mean = 0;
    if (!rms) for (let i = 0; i < n; i++) mean += x[r * n + i]! / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[r * n + i]! - mean) ** 2 / n;
    for (let i = 0; i < n; i++) out[r * n + i] = ((x[r * n + i]! - mean) / Math.sqrt(v + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0);
  }
  return out;
}
function refSoftmax(x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    const row = Array.from({ length: n }, (_, i) => x[r * n + i]!);
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    row.forEach((v, i) => (out[r * n + i] = Math.exp(v - m) / s));
  }
  return out;
}

/** loss = Σ c·f(...), with a fixed random c (Σ softmax and Σ LN outputs alone are constant or trivial). */
function normCheck(shape: number[], params: { name: string; shape: number[] }[], f: (x: Tensor, p: Tensor[]) => Tensor, opts: GradCheckOptions = {}) {
  const size = shape.reduce((a, b) => a * b, 1);
  const feeds: Feeds = { x: seededValues(size, 31, -2, 2), c: seededValues(size, 32) };
  params.forEach((p, i) => (feeds[p.name] = seededValues(p.shape.reduce((a, b) => a * b, 1), 40 + i, 0.5, 1.5)));
  return gradcheck(
    (g) => {
      const x = g.input('x', 'float64', shape);
      const ps = params.map((p) => g.input(p.name, 'float64', p.shape));
      const c = g.input('c', 'float64', shape);
      return { loss: reduceSum(mul(f(x, ps), c)), wrt: [x, ...ps] };
    },
    feeds,
    opts,
  );
}

test('Softmax VJP matches float64 finite differences (last axis and a middle axis)', async () => {
  for (const axis of [-1, 1]) {
    const r = await normCheck([2, 3, 5], [], (x) => softmax(x, axis));
    assert.ok(r.maxRelError <= 1e-6, `axis ${axis}: ${r.maxRelError} (${r.worst})`);
  }
});

const lnCases: [string, { name: string; shape: number[] }[], (x: Tensor, p: Tensor[]) => Tensor][] = [
  ['LayerNorm with weight and bias', [{ name: 'w', shape: [6] }, { name: 'b', shape: [6] }], (x, [w, b]) => layerNorm(x, w!, b!, { eps: 1e-5 })],
  ['LayerNorm without affine', [], (x) => layerNorm(x, null, null, { eps: 1e-6 })],
  ['LayerNorm with weight only', [{ name: 'w', shape: [6] }], (x, [w]) => layerNorm(x, w!, null)],
  ['LayerNorm over the last two axes', [{ name: 'w', shape: [3, 6] }, { name: 'b', shape: [3, 6] }], (x, [w, b]) => layerNorm(x, w!, b!, { axis: -2 })],
  ['RMSNorm with weight', [{ name: 'w', shape: [6] }], (x, [w]) => rmsNorm(x, w!, { eps: 1e-6 })],
  ['RMSNorm without weight', [], (x) => rmsNorm(x, null)],
];
for (const [name, params, f] of lnCases) {
  // forceLowering=false runs ORT's float64 fused kernel; true runs the primitive lowering. The VJP is the
  // fused node's own rule in both cases.
  for (const forceLowering of [false, true]) {
    test(`${name} VJP matches float64 finite differences (${forceLowering ? 'lowered' : 'fused kernel'})`, async () => {
      const r = await normCheck([2, 3, 6], params, f, { forceLowering });
      assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
    });
  }
}

test('layerNormPrimitive and rmsNormPrimitive differentiate through their primitives', async () => {
  const ps = [{ name: 'w', shape: [6] }, { name: 'b', shape: [6] }];
  const r1 = await normCheck([2, 3, 6], ps, (x, [w, b]) => layerNormPrimitive(x, w!, b!, { eps: 1e-6 }));
  assert.ok(r1.maxRelError <= 1e-6, `layerNormPrimitive: ${r1.maxRelError} (${r1.worst})`);
  const r2 = await normCheck([2, 3, 6], ps.slice(0, 1), (x, [w]) => rmsNormPrimitive(x, w!, { eps: 1e-6 }));
  assert.ok(r2.maxRelError <= 1e-6, `rmsNormPrimitive: ${r2.maxRelError} (${r2.worst})`);
});

test('float64 fused LayerNorm, RMSNorm and Softmax match JS references to 1e-13 (eps rounded to float32 like the attribute)', async () => {
  const xs = seededValues(4 * 8, 51, -3, 3).map((v, i) => v + (i < 8 ? 100 : 0));
  const ws = seededValues(8, 52, 0.5, 1.5);
  const bs = seededValues(8, 53);
  const eps = 1e-6;
  const g = new Graph();
  const x = g.input('x', 'float64', [4, 8]);
  const w = g.input('w', 'float64', [8]);
  const b = g.input('b', 'float64', [8]);
  const outs = [layerNorm(x, w, b, { eps }), layerNorm(x, null, null, { eps }), rmsNorm(x, w, { eps }), softmax(x)];
  assert.deepEqual(
    emitNodes(g, outs).map((n) => n.opType),
    ['LayerNormalization', 'LayerNormalization', 'RMSNormalization', 'Softmax'],
    'float64 uses the fused kernels (ORT CPU has them)',
  );
  const [ln, ln0, rms, sm] = await evaluate(g, outs, { x: xs, w: ws, b: bs });
  const e32 = Math.fround(eps);
  const refs = [refNorm(xs, 8, e32, false, ws, bs), refNorm(xs, 8, e32, false), refNorm(xs, 8, e32, true, ws), refSoftmax(xs, 8)];
  [ln, ln0, rms, sm].forEach((got, k) => got!.forEach((v, i) => assert.ok(Math.abs(v - refs[k]![i]!) <= 1e-13, `output ${k}[${i}]: ${v} vs ${refs[k]![i]}`)));
});

test('float32 fused LayerNorm, RMSNorm and Softmax match their lowerings and JS references to 1e-5', async () => {
  const xs = Float32Array.from(seededValues(4 * 16, 61, -3, 3));
  const ws = Float32Array.from(seededValues(16, 62, 0.5, 1.5));
  const bs = Float32Array.from(seededValues(16, 63));
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 2, 16]);
  const w = g.input('w', 'float32', [16]);
  const b = g.input('b', 'float32', [16]);
  const outs = [layerNorm(x, w, b, { eps: 1e-6 }), layerNorm(x, null, null), rmsNorm(x, w, { eps: 1e-6 }), rmsNorm(x, null), softmax(x)];
  const feeds = { x: xs, w: ws, b: bs };
  const fused = await evaluate(g, outs, feeds);
  const lowered = await evaluate(g, outs, feeds, true);
  const refs = [refNorm(xs, 16, 1e-6, false, ws, bs), refNorm(xs, 16, 1e-5, false), refNorm(xs, 16, 1e-6, true, ws), refNorm(xs, 16, 1e-5, true), refSoftmax(xs, 16)];
  refs.forEach((ref, k) =>
    ref.forEach((r, i) => {
      assert.ok(Math.abs(fused[k]![i]! - r) <= 1e-5, `fused output ${k}[${i}]: ${fused[k]![i]} vs ${r}`);
      assert.ok(Math.abs(lowered[k]![i]! - fused[k]![i]!) <= 1e-5, `lowered output ${k}[${i}]: ${lowered[k]![i]} vs ${fused[k]![i]}`);
    }),
  );
});

test('norm shape errors name the op and both shapes at build time', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 5, 8]);
  const w7 = g.input('w7', 'float32', [7]);
  const w8 = g.input('w8', 'float32', [8]);
  const isShapeError = (op: string, ...shapes: string[]) => (e: unknown) =>
    e instanceof ShapeError && e.message.includes(op) && shapes.every((s) => e.message.includes(s)) && /normalization\.test\.ts/.test(e.message);
  assert.throws(() => layerNorm(x, w7, null), isShapeError('LayerNormalization', '[2,5,8]', '[7]'));
  assert.throws(() => layerNorm(x, w8, w7), isShapeError('LayerNormalization', 'bias', '[2,5,8]', '[7]'));
  assert.throws(() => layerNorm(x, w8, null, { axis: -2 }), isShapeError('LayerNormalization', '[5,8]', '[8]'));
  assert.throws(() => rmsNorm(x, w7), isShapeError('RMSNormalization', '[2,5,8]', '[7]'));
  assert.throws(() => softmax(x, 3), isShapeError('Softmax', '[2,5,8]'));
  assert.throws(() => layerNorm(x, null, null, { axis: -4 }), isShapeError('LayerNormalization', '[2,5,8]'));
  const w64 = g.input('w64', 'float64', [8]);
  assert.throws(() => rmsNorm(x, w64), (e: unknown) => e instanceof ShapeError && /float64/.test(e.message) && /float32/.test(e.message));
});

test('float16 LayerNorm and RMSNorm without weights feed a correct ones Scale', async () => {
  const half = (h: number): number => {
    const e = (h >> 10) & 31;
    const m = h & 1023;
    return (h >> 15 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
  };
  const g = new Graph();
  const x = g.input('x', 'float16', [1, 4]);
  const outs = [layerNorm(x, null, null), rmsNorm(x, null)];
  const c = await CompiledGraph.fromGraph(g, { outputs: outs });
  try {
    // 1, 2, 3, 4 as IEEE half bits.
    const r = await c.run({ x: Uint16Array.from([0x3c00, 0x4000, 0x4200, 0x4400]) });
    const refs = [refNorm([1, 2, 3, 4], 4, 1e-5, false), refNorm([1, 2, 3, 4], 4, 1e-5, true)];
    outs.forEach((o, k) => Array.from(r[o.name] as Uint16Array, half).forEach((v, i) => assert.ok(Math.abs(v - refs[k]![i]!) <= 2e-3, `${o.producer!.opType}[${i}]: ${v} vs ${refs[k]![i]}`)));
  } finally {
    await c.release();
  }
});
