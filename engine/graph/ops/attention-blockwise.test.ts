import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import type { DType } from '../dtype.js';
import { grad } from '../autodiff.js';
import { GraphBuildError, ShapeError } from '../errors.js';
import { emitNodes } from '../onnx/serialize.js';
import { CompiledGraph } from '../../runtime/session.js';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { attentionNaive } from './attention-naive.js';
import { attentionBlockwise, attentionBlockwiseWithLse } from './attention-blockwise.js';
import { add, mul } from './elementwise.js';
import { reduceSum } from './reduce.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Builds sum(attn(q,k,v)·r) both ways in one graph and returns O, dQ, dK, dV for each. */
async function compareWithNaive(dtype: DType, b: number, h: number, tq: number, tk: number, dh: number, dv: number, blockSize: number) {
  const g = new Graph('cmp');
  const q = g.input('q', dtype, [b, h, tq, dh]);
  const k = g.input('k', dtype, [b, h, tk, dh]);
  const v = g.input('v', dtype, [b, h, tk, dv]);
  const r = g.input('r', dtype, [b, h, tq, dv]);
  const outs: Tensor[] = [];
  for (const [name, o] of [['naive', attentionNaive(q, k, v)], ['block', attentionBlockwise(q, k, v, { blockSize })]] as const) {
    const grads = grad(reduceSum(mul(o, r)), [q, k, v]);
    outs.push(g.alias(o, `${name}_o`), ...grads.map((t, i) => g.alias(t, `${name}_d${'qkv'[i]}`)));
  }
  const compiled = await CompiledGraph.fromGraph(g, { outputs: outs, disableCse: true });
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const feeds = Object.fromEntries(g.inputs.map((t, i) => [t.name, Arr.from(seededValues(t.size, 99 + i, -2, 2))]));
  const res = await compiled.run(feeds);
  await compiled.release();
  const diffs: Record<string, number> = {};
  for (const key of ['o', 'dq', 'dk', 'dv']) diffs[key] = maxAbsDiff(res[`naive_${key}`] as Float32Array, res[`block_${key}`] as Float32Array);
  return diffs;
}

test('blockwise attention forward and dQ, dK, dV match naive attention (float32, T=256, blockSize 64)', async () => {
  const d = await compareWithNaive('float32', 1, 2, 256, 256, 32, 32, 64);
  for (const [key, diff] of Object.entries(d)) assert.ok(diff <= 1e-5, `${key}: max abs diff ${diff}`);
});

test('blockwise attention with Tq != Tk, a ragged last block and Dv != Dh matches naive (float32)', async () => {
  const d = await compareWithNaive('float32', 2, 2, 200, 150, 16, 8, 64);
  for (const [key, diff] of Object.entries(d)) assert.ok(diff <= 1e-5, `${key}: max abs diff ${diff}`);
});

test('blockwise attention VJP passes the float64 gradient check (ragged blocks, Tq != Tk)', async () => {
  const r = await gradcheck((g) => {
    const q = g.input('q', 'float64', [2, 2, 9, 4]);
    const k = g.input('k', 'float64', [2, 2, 7, 4]);
    const v = g.input('v', 'float64', [2, 2, 7, 3]);
    const w = g.input('w', 'float64', [2, 2, 9, 3]);
    return { loss: reduceSum(mul(attentionBlockwise(q, k, v, { blockSize: 4, scale: 0.8 }), w)), wrt: [q, k, v] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('the logsumexp output is differentiable too (float64 gradient check)', async () => {
  const r = await gradcheck((g) => {
    const q = g.input('q', 'float64', [1, 2, 6, 4]);
    const k = g.input('k', 'float64', [1, 2, 5, 4]);
    const v = g.input('v', 'float64', [1, 2, 5, 4]);
    const w = g.input('w', 'float64', [1, 2, 6, 4]);
    const w2 = g.input('w2', 'float64', [1, 2, 6]);
    const { out, lse } = attentionBlockwiseWithLse(q, k, v, { blockSize: 4 });
    return { loss: add(reduceSum(mul(out, w)), reduceSum(mul(lse, w2))), wrt: [q, k, v] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('asking for one gradient only gives the same values as asking for all three', async () => {
  const g = new Graph('subset');
  const q = g.input('q', 'float64', [1, 2, 12, 4]);
  const k = g.input('k', 'float64', [1, 2, 10, 4]);
  const v = g.input('v', 'float64', [1, 2, 10, 4]);
  const loss = reduceSum(mul(attentionBlockwise(q, k, v, { blockSize: 5 }), attentionBlockwise(q, k, v, { blockSize: 5 })));
  const all = grad(loss, [q, k, v]).map((t, i) => g.alias(t, `all_${i}`));
  const one = [q, k, v].map((x, i) => g.alias(grad(loss, [x])[0]!, `one_${i}`));
  const compiled = await CompiledGraph.fromGraph(g, { outputs: [...all, ...one], disableCse: true });
  const res = await compiled.run(Object.fromEntries(g.inputs.map((t, i) => [t.name, seededValues(t.size, 7 + i)])));
  await compiled.release();
  for (let i = 0; i < 3; i++) assert.ok(maxAbsDiff(res[`all_${i}`] as Float64Array, res[`one_${i}`] as Float64Array) <= 1e-12, `input ${i}`);
});

test('the emitted training graph has no refree-domain node and chains each backward block to the previous one', () => {
  const g = new Graph('emit');
  const q = g.input('q', 'float32', [1, 1, 32, 8]);
  const k = g.input('k', 'float32', [1, 1, 32, 8]);
  const v = g.input('v', 'float32', [1, 1, 32, 8]);
  const [dq, dk, dv] = grad(reduceSum(attentionBlockwise(q, k, v, { blockSize: 8 })), [q, k, v]) as [Tensor, Tensor, Tensor];
  const nodes = emitNodes(g, [dq, dk, dv]);
  assert.equal(nodes.filter((n) => n.domain !== '').length, 0);
  // 4 blocks: forward guards on blocks 1..3, backward guards on blocks 0..3 (each a Mul by zero).
  const zeroMuls = nodes.filter((n) => n.opType === 'Mul' && n.inputs.some((t) => t && g.inlineData(t)?.length === 1 && Number(g.inlineData(t)![0]) === 0));
  assert.equal(zeroMuls.length, 7);
  // Four Exp in the forward (one per block) and four recomputed P_i in the backward.
  assert.equal(nodes.filter((n) => n.opType === 'Exp').length, 8);
});

test('wrong shapes and bad block sizes fail at build time naming the op and every shape', () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [1, 4, 16, 8]);
  const k = g.input('k', 'float32', [1, 4, 16, 6]);
  const v = g.input('v', 'float32', [1, 4, 16, 8]);
  assert.throws(
    () => attentionBlockwise(q, k, v),
    (e: unknown) => e instanceof ShapeError && /BlockwiseAttention/.test(e.message) && /\[1,4,16,8\]/.test(e.message) && /\[1,4,16,6\]/.test(e.message) && /head dims differ/.test(e.message),
  );
  assert.throws(() => attentionBlockwise(q, q, v, { blockSize: 0 }), (e: unknown) => e instanceof GraphBuildError && /blockSize/.test(e.message));
  const q3 = g.input('q3', 'float32', [4, 16, 8]);
  assert.throws(() => attentionBlockwise(q3, k, v), (e: unknown) => e instanceof ShapeError && /\[4,16,8\]/.test(e.message));
});
