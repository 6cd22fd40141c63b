import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import { ShapeError } from '../errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { attentionNaive } from './attention-naive.js';
import { attention } from './attention.js';
import { mul } from './elementwise.js';
import { reduceSum } from './reduce.js';

/** softmax(s·q kᵀ) v for one [T, D] head, in plain JS float64. */
function referenceHead(q: Float64Array, k: Float64Array, v: Float64Array, off: { q: number; k: number; v: number }, tq: number, tk: number, dh: number, dv: number, s: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < tq; i++) {
    const logits = [];
    for (let j = 0; j < tk; j++) {
      let dot = 0;
      for (let d = 0; d < dh; d++) dot += q[off.q + i * dh + d]! * k[off.k + j * dh + d]!;
      logits.push(dot * s);
    }
    const m = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    for (let d = 0; d < dv; d++) out.push(e.reduce((acc, p, j) => acc + (p / z) * v[off.v + j * dv + d]!, 0));
  }
  return out;
}

test('naive attention forward matches a plain-JS reference (Tq != Tk, Dv != Dh, default scale)', async () => {
  const [b, h, tq, tk, dh, dv] = [2, 3, 5, 4, 6, 2];
  const g = new Graph();
  const q = g.input('q', 'float64', [b, h, tq, dh]);
  const k = g.input('k', 'float64', [b, h, tk, dh]);
  const v = g.input('v', 'float64', [b, h, tk, dv]);
  const out = g.output(attentionNaive(q, k, v), 'out');
  assert.deepEqual(out.shape, [b, h, tq, dv]);
  const feeds = { q: seededValues(q.size, 1, -2, 2), k: seededValues(k.size, 2, -2, 2), v: seededValues(v.size, 3) };
  // Optimisations off: at 'all', ORT folds the scalar Mul into FusedMatMul's alpha, a float32
  // attribute, which costs ~1e-8 relative accuracy in a float64 graph.
  const compiled = await CompiledGraph.fromGraph(g, { optimization: 'disabled' });
  const got = (await compiled.run(feeds)).out as Float64Array;
  await compiled.release();
  const want: number[] = [];
  for (let bh = 0; bh < b * h; bh++) {
    want.push(...referenceHead(feeds.q, feeds.k, feeds.v, { q: bh * tq * dh, k: bh * tk * dh, v: bh * tk * dv }, tq, tk, dh, dv, 1 / Math.sqrt(dh)));
  }
  let maxDiff = 0;
  want.forEach((w, i) => (maxDiff = Math.max(maxDiff, Math.abs(w - got[i]!))));
  assert.ok(maxDiff <= 1e-12, `max abs diff ${maxDiff}`);
});

test('naive attention passes the float64 gradient check for q, k and v', async () => {
  const r = await gradcheck((g) => {
    const q = g.input('q', 'float64', [2, 2, 5, 4]);
    const k = g.input('k', 'float64', [2, 2, 6, 4]);
    const v = g.input('v', 'float64', [2, 2, 6, 3]);
    const w = g.input('w', 'float64', [2, 2, 5, 3]);
    return { loss: reduceSum(mul(attentionNaive(q, k, v, { scale: 0.7 }), w)), wrt: [q, k, v] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('attention() dispatches to the naive form by default', () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [1, 2, 4, 8]);
  attention(q, q, q);
  assert.deepEqual(
    g.nodes.map((n) => n.opType),
    ['Mul', 'Transpose', 'MatMul', 'Softmax', 'MatMul'],
  );
});

test('mismatched attention shapes fail at build time naming every shape and the caller', () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [1, 4, 16, 8]);
  const k = g.input('k', 'float32', [1, 2, 16, 8]);
  const v = g.input('v', 'float32', [1, 4, 12, 8]);
  const is = (re: RegExp) => (e: unknown) => e instanceof ShapeError && re.test(e.message) && /\[1,4,16,8\]/.test(e.message) && /attention-naive\.test\.ts/.test(e.message);
  assert.throws(() => attentionNaive(q, k, q), is(/head counts differ/));
  assert.throws(() => attentionNaive(q, q, v), is(/k and v lengths differ/));
  assert.throws(() => attentionNaive(q, q, g.input('v64', 'float64', [1, 4, 16, 8])), is(/dtype mismatch/));
  assert.throws(() => attentionNaive(q, q, g.input('v3', 'float32', [4, 16, 8])), is(/\[batch, heads, tokens, head_dim\]/));
});
