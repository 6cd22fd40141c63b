import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import type { DType } from '../dtype.js';
import { grad } from '../autodiff.js';
import { GraphBuildError, ShapeError } from '../errors.js';
import { emitNodes } from '../onnx/serialize.js';
import { CompiledGraph } from '../../runtime/session.js';
import { seededValues } from '../../exec/gradcheck.js';
import { attentionNaive } from './attention-naive.js';
import { attentionFused, multiHeadAttention } from './attention-fused.js';
import { reduceSum } from './reduce.js';

/** Runs naive, fused-MHA and fused-ONNX attention on the same inputs; returns max |fused − naive|. */
async function fusedVsNaive(dtype: DType, dims: { b: number; h: number; tq: number; tk: number; dh: number; dv: number }) {
  const g = new Graph('fused');
  const q = g.input('q', dtype, [dims.b, dims.h, dims.tq, dims.dh]);
  const k = g.input('k', dtype, [dims.b, dims.h, dims.tk, dims.dh]);
  const v = g.input('v', dtype, [dims.b, dims.h, dims.tk, dims.dv]);
  const outs = [g.alias(attentionNaive(q, k, v), 'naive'), g.alias(attentionFused(q, k, v), 'mha'), g.alias(attentionFused(q, k, v, { kernel: 'onnx' }), 'onnx')];
  const emitted = emitNodes(g, outs).map((n) => `${n.domain}:${n.opType}`);
  const compiled = await CompiledGraph.fromGraph(g, { outputs: outs });
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const res = await compiled.run(Object.fromEntries(g.inputs.map((t, i) => [t.name, Arr.from(seededValues(t.size, 5 + i, -2, 2))])));
  await compiled.release();
  const diff = (name: string) => (res[name] as Float32Array).reduce((m, x, i) => Math.max(m, Math.abs(x - (res.naive as Float32Array)[i]!)), 0);
  return { mha: diff('mha'), onnx: diff('onnx'), emitted };
}

test('fused MultiHeadAttention and opset-23 Attention equal naive attention to 1e-5 in float32', async () => {
  const r = await fusedVsNaive('float32', { b: 2, h: 4, tq: 40, tk: 24, dh: 16, dv: 8 });
  assert.ok(r.emitted.includes('com.microsoft:MultiHeadAttention') && r.emitted.includes(':Attention'), r.emitted.join(' '));
  assert.ok(r.mha <= 1e-5, `MultiHeadAttention: max abs diff ${r.mha}`);
  assert.ok(r.onnx <= 1e-5, `Attention: max abs diff ${r.onnx}`);
});

test('in float64 the fused nodes lower to the primitive form and still agree', async () => {
  const r = await fusedVsNaive('float64', { b: 1, h: 2, tq: 6, tk: 5, dh: 4, dv: 4 });
  assert.ok(!r.emitted.some((n) => n.endsWith('MultiHeadAttention') || n === ':Attention'), r.emitted.join(' '));
  assert.ok(r.mha <= 1e-12 && r.onnx <= 1e-12, `${r.mha} ${r.onnx}`);
});

test('grad() refuses fused attention with an error that points to the training forms', () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [1, 2, 8, 4]);
  for (const kernel of ['mha', 'onnx'] as const) {
    assert.throws(
      () => grad(reduceSum(attentionFused(q, q, q, { kernel })), [q]),
      (e: unknown) => e instanceof GraphBuildError && /no VJP for .*(MultiHeadAttention|Attention)/.test(e.message) && /primitive-op form/.test(e.message),
    );
  }
});

test('multiHeadAttention checks the packed [B, T, H·D] layout at build time', () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [2, 10, 64]);
  const k = g.input('k', 'float32', [2, 12, 64]);
  assert.deepEqual(multiHeadAttention(q, k, k, 4).shape, [2, 10, 64]);
  assert.throws(() => multiHeadAttention(q, k, k, 3), (e: unknown) => e instanceof ShapeError && /not divisible by 3 heads/.test(e.message) && /\[2,10,64\]/.test(e.message));
  assert.throws(() => multiHeadAttention(q, k, g.input('v', 'float32', [2, 11, 64]), 4), (e: unknown) => e instanceof ShapeError && /k and v lengths differ/.test(e.message));
  assert.throws(() => multiHeadAttention(q, g.input('k2', 'float32', [2, 12, 32]), k, 4), (e: unknown) => e instanceof ShapeError && /head dims differ/.test(e.message));
});
