import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from './graph.js';
import type { Tensor } from './graph.js';
import { FlatParams, InitializerParams, InputParams, ParamLayout, collectLayout, fillInit, linearInit, normalInit, onesInit, zerosInit } from './params.js';
import { CompiledGraph } from '../runtime/session.js';
import { add, mul } from './ops/elementwise.js';
import { reduceSum } from './ops/reduce.js';
import { matmul } from './ops/matmul.js';
import { GraphBuildError, ShapeError } from './errors.js';

test('layout assigns consecutive offsets and initialises deterministically per name', () => {
  const l = new ParamLayout();
  const a = l.add('a', [3, 4], normalInit(0.5));
  const b = l.add('b', [5], onesInit);
  const c = l.add('c', [2, 2], zerosInit);
  assert.deepEqual([a.offset, b.offset, c.offset, l.size], [0, 12, 17, 21]);
  const v1 = l.initialize(7);
  const v2 = l.initialize(7);
  assert.deepEqual(v1, v2);
  assert.notDeepEqual(l.initialize(8), v1);
  assert.deepEqual(Array.from(l.view(v1, 'b')), [1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(l.view(v1, 'c')), [0, 0, 0, 0]);
  // Adding a parameter in front does not reseed the others: each name has its own stream.
  const l2 = new ParamLayout();
  l2.add('z', [9], normalInit(1));
  l2.add('a', [3, 4], normalInit(0.5));
  assert.deepEqual(l2.view(l2.initialize(7), 'a'), l.view(v1, 'a'));
  assert.throws(() => l.add('a', [1]), GraphBuildError);
});

test('normal and uniform initialisers have the requested statistics', () => {
  const n = new Float64Array(20000);
  fillInit(n, normalInit(0.02, 1), 3, 'w');
  const mean = n.reduce((s, x) => s + x, 0) / n.length;
  const std = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean - 1) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `mean ${mean} std ${std}`);
  const u = new Float64Array(20000);
  fillInit(u, linearInit(16), 3, 'w');
  const bound = 0.25;
  assert.ok(u.every((x) => Math.abs(x) <= bound));
  assert.ok(Math.max(...u) > 0.24 && Math.min(...u) < -0.24);
});

test('FlatParams slices named tensors out of one flat input, and its flat gradient matches each parameter gradient', async () => {
  const layout = new ParamLayout();
  layout.add('w', [2, 3], normalInit(1));
  layout.add('unused', [4], normalInit(1));
  layout.add('b', [3], normalInit(1));
  const g = new Graph();
  const ps = FlatParams.bind(g, layout);
  const x = g.input('x', 'float32', [5, 2]);
  const w = ps.param('w', [2, 3]);
  const b = ps.param('b', [3]);
  const y = add(matmul(x, w), b);
  // loss = Σ y + Σ b² → dL/dw = xᵀ·1, dL/db = 5 + 2b, dL/dunused = 0
  const loss = add(reduceSum(y), reduceSum(mul(b, b)));
  const gflat = ps.gradient(loss);
  assert.deepEqual(gflat.shape, [layout.size]);
  const s = await CompiledGraph.fromGraph(g, { outputs: [g.alias(w, 'w_out'), g.alias(b, 'b_out'), g.alias(gflat, 'grad')] });
  const flat = layout.initialize(1);
  const xs = Float32Array.from({ length: 10 }, (_, i) => i * 0.1 - 0.3);
  const out = await s.run({ params: flat, x: xs });
  assert.deepEqual(Array.from(out.w_out as Float32Array), Array.from(layout.view(flat, 'w')));
  assert.deepEqual(Array.from(out.b_out as Float32Array), Array.from(layout.view(flat, 'b')));
  const gv = out.grad as Float32Array;
  const expectW = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 5; r++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expectW[i * 3 + j]! += xs[r * 2 + i]!;
  const bv = layout.view(flat, 'b');
  const expectB = Array.from(bv, (v) => 5 + 2 * v);
  const got = (name: string): number[] => Array.from(layout.view(gv, name));
  got('w').forEach((v, i) => assert.ok(Math.abs(v - expectW[i]!) < 1e-5, `dw[${i}] ${v} vs ${expectW[i]}`));
  got('b').forEach((v, i) => assert.ok(Math.abs(v - expectB[i]!) < 1e-5, `db[${i}] ${v} vs ${expectB[i]}`));
  assert.deepEqual(got('unused'), [0, 0, 0, 0]);
  await s.release();
});

test('FlatParams keeps the graph small and WebGPU-safe: one Slice per tensor, a Concat tree of fan-in <= 7 for the gradient', () => {
  const layout = new ParamLayout();
  for (let i = 0; i < 50; i++) layout.add(`p${i}`, [2, 3]);
  const g = new Graph();
  const ps = FlatParams.bind(g, layout);
  let acc: Tensor | null = null;
  for (let i = 0; i < 50; i++) {
    const t = reduceSum(ps.param(`p${i}`, [2, 3]));
    acc = acc ? add(acc, t) : t;
  }
  const before = g.nodes.length;
  const gflat = ps.gradient(acc!);
  assert.deepEqual(gflat.shape, [300]);
  const ofType = (op: string, from = 0) => g.nodes.slice(from).filter((n) => n.opType === op);
  assert.equal(ofType('Slice').length, 50);
  assert.equal(ofType('Split').length, 0);
  const concats = ofType('Concat', before);
  assert.ok(concats.every((n) => n.inputs.length <= 7), `fan-in ${Math.max(...concats.map((n) => n.inputs.length))}`);
  // 50 pieces → 8 (7 Concats; the 50th piece passes through) → 2 (1 Concat + the odd one) → 1
  assert.equal(concats.length, 9);
  assert.equal(g.inputs.length, 1);
});

test('a grouped layout puts equal-width matrices side by side; each is one Slice of a shared view and its gradient is exact', async () => {
  const l = new ParamLayout();
  l.add('a1', [2, 4], normalInit(1));
  l.add('b1', [3, 2], normalInit(1));
  l.add('v', [3], normalInit(1));
  l.add('a2', [2, 4], normalInit(1));
  l.add('b2', [5, 2], normalInit(1));
  l.add('unused', [1, 2], normalInit(1));
  const grouped = l.grouped();
  assert.deepEqual(
    grouped.entries.map((e) => e.name),
    ['a1', 'a2', 'b1', 'b2', 'unused', 'v'],
  );
  assert.deepEqual(grouped.matrixRuns(), [
    { start: 0, count: 2, cols: 4 },
    { start: 2, count: 3, cols: 2 },
  ]);
  const g = new Graph();
  const ps = FlatParams.bind(g, grouped);
  const names = ['a1', 'a2', 'b1', 'b2', 'v'] as const;
  const ts = names.map((n) => ps.param(n, grouped.entry(n).shape));
  // loss = Σ_t Σ c_t ⊙ t²  → d/dt = 2 c_t t, with c_t = 1 + index
  let loss: Tensor | null = null;
  ts.forEach((t, i) => {
    const term = reduceSum(mul(mul(t, t), i + 1));
    loss = loss ? add(loss, term) : term;
  });
  const before = g.nodes.length;
  const gflat = ps.gradient(loss!);
  const perMatrix = g.nodes.slice(0, before).filter((n) => n.opType === 'Reshape').length;
  // The two run views only: the four matrices need no Reshape (and v is already 1-D).
  assert.equal(perMatrix, 2);
  // The gradient joins each run's matrices along rows: 2-D Concats.
  assert.ok(g.nodes.slice(before).some((n) => n.opType === 'Concat' && n.outputs[0]!.rank === 2));
  const s = await CompiledGraph.fromGraph(g, { outputs: [...ts.map((t, i) => g.alias(t, `t${i}`)), g.alias(gflat, 'grad')] });
  const flat = grouped.initialize(5);
  const out = await s.run({ params: flat });
  names.forEach((n, i) => {
    const want = grouped.view(flat, n);
    assert.deepEqual(Array.from(out[`t${i}`] as Float32Array), Array.from(want), n);
    const got = grouped.view(out.grad as Float32Array, n);
    want.forEach((v, j) => assert.ok(Math.abs(got[j]! - 2 * (i + 1) * v) < 1e-5, `d${n}[${j}]`));
  });
  assert.deepEqual(Array.from(grouped.view(out.grad as Float32Array, 'unused')), [0, 0]);
  await s.release();
});

test('a wrongly shaped request fails at build time with both shapes', () => {
  const layout = new ParamLayout();
  layout.add('w', [2, 3]);
  const ps = FlatParams.bind(new Graph(), layout);
  assert.throws(() => ps.param('w', [3, 2]), (e: unknown) => e instanceof ShapeError && /\[3,2\]/.test(e.message) && /\[2,3\]/.test(e.message));
  assert.throws(() => ps.param('nope', [1]), GraphBuildError);
});

test('collectLayout discovers the parameters the model code asks for, once each, in order', () => {
  const model = (g: Graph, ps: { param(n: string, s: readonly number[], i?: ReturnType<typeof normalInit>): Tensor }): Tensor => {
    const x = g.input('x', 'float32', [1, 4]);
    const h = matmul(x, ps.param('l1', [4, 8], normalInit(0.1)));
    const y = matmul(h, ps.param('l2', [8, 2]));
    return add(y, reduceSum(ps.param('l1', [4, 8])));
  };
  const layout = collectLayout((g, ps) => void model(g, ps));
  assert.deepEqual(
    layout.entries.map((e) => [e.name, e.offset, e.size]),
    [
      ['l1', 0, 32],
      ['l2', 32, 16],
    ],
  );
  assert.equal(layout.entry('l1').init.kind, 'normal');
});

test('InitializerParams can reference external data without allocating, and InputParams makes named inputs', () => {
  const g = new Graph();
  const ext = new InitializerParams(g, 'float16', { external: 'weights.bin' });
  ext.param('a', [3072, 3072]);
  ext.param('b', [14336, 3072]);
  assert.equal(ext.externalBytes, 2 * (3072 * 3072 + 14336 * 3072));
  const data = [...g.initializers.values()];
  assert.deepEqual(
    data.map((d) => (d.kind === 'external' ? d.offset : -1)),
    [0, 2 * 3072 * 3072],
  );
  const inp = new InputParams(g);
  inp.param('frozen.w', [2, 2]);
  assert.equal(inp.param('frozen.w', [2, 2]), inp.tensors.get('frozen.w'));
  assert.deepEqual(
    g.inputs.map((t) => t.name),
    ['frozen.w'],
  );
});
