import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { T5Config } from '../config.js';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import { t5Params } from '../inventory/t5.js';
import { randomWeights } from '../random-weights.js';
import { InputWeightProvider, MapWeightProvider } from '../weight-provider.js';
import { f16ToF32 } from '../../graph/half.js';
import type { BuildT5Options } from './encoder.js';
import { buildT5Graph, t5Forward } from './encoder.js';
import { relError, t5Reference } from './reference.test-helper.js';

// vocab 64, dim 32, ffn 64, 4 heads, 2 layers, 8 buckets (4 per direction: distances 0, 1, 2–15, ≥16).
const cfg: T5Config = TINY.t5!;
const weights = randomWeights(t5Params(cfg), 5);
const refWeights = new Map([...weights].map(([k, e]) => [k, (e.data as { kind: 'inline'; data: Float32Array }).data]));

// Two prompts of 13 and 18 real tokens (the last real token is EOS = 1), padded with 0 to L = 20, so
// query/key distances reach the ≥16 bucket on both sides.
const L = 20;
const lengths = [13, 18];
const prompt = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : 3 + ((i * 7 + seed * 13) % 60)));
const prompts = lengths.map((n, b) => prompt(n, b + 1));
const padded = (ids: number[], len: number): number[] => [...ids, ...new Array<number>(len - ids.length).fill(0)];

function feeds(len: number): { ids: BigInt64Array; mask: BigInt64Array } {
  const ids = new BigInt64Array(prompts.length * len);
  const mask = new BigInt64Array(prompts.length * len);
  prompts.forEach((p, b) => p.forEach((id, t) => ((ids[b * len + t] = BigInt(id)), (mask[b * len + t] = 1n))));
  return { ids, mask };
}

const reference = prompts.map((p) => t5Reference(cfg, refWeights, padded(p, L), p.length));

async function run(len: number, opts: BuildT5Options): Promise<{ context: Float64Array; hidden: Float64Array }> {
  const g = buildT5Graph(cfg, new MapWeightProvider(weights), { batch: prompts.length, length: len }, { ...opts, withHidden: true });
  const c = await CompiledGraph.fromGraph(g, { optimization: opts.dtype === 'float64' ? 'basic' : 'all' });
  try {
    const r = await c.run(feeds(len));
    const f = (a: unknown): Float64Array => Float64Array.from(opts.dtype === 'float16' ? f16ToF32(a as Uint16Array) : (a as Float32Array));
    return { context: f(r.context), hidden: f(r.hidden) };
  } finally {
    await c.release();
  }
}

/** Worst relative error over the prompts' real rows, and whether every padding row of `context` is 0. */
function compare(context: Float64Array, len: number): { err: number; padZero: boolean } {
  let err = 0;
  let padZero = true;
  prompts.forEach((p, b) => {
    const rows = context.subarray(b * len * cfg.dim, (b + 1) * len * cfg.dim);
    err = Math.max(err, relError(rows, reference[b]!, p.length * cfg.dim));
    for (let i = p.length * cfg.dim; i < len * cfg.dim; i++) if (!Object.is(rows[i], 0)) padZero = false;
  });
  return { err, padZero };
}

test('reference sanity: output is O(1), the position bias and the mask both matter', () => {
  const r = reference[0]!;
  const maxAbs = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(maxAbs > 0.5, `max |y| ${maxAbs}`);
  const noPos = new Map(refWeights);
  for (let i = 0; i < cfg.layers; i++) noPos.set(`blocks.${i}.pos_embedding.embedding.weight`, new Float32Array(cfg.numBuckets * cfg.heads));
  const p = prompts[0]!;
  assert.ok(relError(t5Reference(cfg, noPos, padded(p, L), p.length), r, p.length * cfg.dim) > 1e-2, 'position bias must change the output');
  assert.ok(relError(t5Reference(cfg, refWeights, padded(p, L), L), r, p.length * cfg.dim) > 1e-2, 'attending the padding must change the output');
});

test('float64 graph matches the float64 reference (naive and fused-lowered attention)', async () => {
  for (const attention of ['naive', 'fused'] as const) {
    const { context } = await run(L, { dtype: 'float64', attention, gelu: 'primitive' });
    const { err, padZero } = compare(context, L);
    console.log(`  float64 ${attention}: rel error ${err.toExponential(2)}`);
    assert.ok(err <= 1e-10, `rel error ${err}`);
    assert.ok(padZero, 'padding rows of context must be exactly 0');
  }
});

for (const attention of ['naive', 'fused'] as const) {
  test(`float32 graph (${attention} attention, ONNX Gelu) matches the float64 reference to 1e-4`, async () => {
    const { context, hidden } = await run(L, { attention });
    const { err, padZero } = compare(context, L);
    console.log(`  float32 ${attention}: rel error ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `rel error ${err}`);
    assert.ok(padZero, 'padding rows of context must be exactly 0');
    // hidden keeps the (meaningless but finite) padding rows: context really is a masked copy.
    assert.ok(hidden.every(Number.isFinite));
    assert.ok(hidden.subarray(lengths[0]! * cfg.dim, L * cfg.dim).some((v) => v !== 0));
  });
}

test('float16 activations (weights cast in the graph, fp16_clamp on the residual) stay close', async () => {
  for (const attention of ['naive', 'fused'] as const) {
    const { err, padZero } = compare((await run(L, { dtype: 'float16', attention })).context, L);
    console.log(`  float16 ${attention}: rel error ${err.toExponential(2)}`);
    assert.ok(err <= 5e-3, `rel error ${err}`);
    assert.ok(padZero);
  }
});

test('float16: fp16_clamp keeps the output finite when an FFN overflows float16 (NaN without it)', async () => {
  const big = new Map(weights);
  const fc2 = weights.get('blocks.0.ffn.fc2.weight')!;
  big.set('blocks.0.ffn.fc2.weight', { ...fc2, data: { kind: 'inline', data: (fc2.data as { data: Float32Array }).data.map((v) => v * 1e5) } });
  const g = buildT5Graph(cfg, new MapWeightProvider(big), { batch: prompts.length, length: L }, { dtype: 'float16' });
  const c = await CompiledGraph.fromGraph(g);
  try {
    const out = f16ToF32((await c.run(feeds(L))).context as Uint16Array);
    assert.ok(out.every(Number.isFinite));
  } finally {
    await c.release();
  }
});

test('the full umT5-XXL graph (64 heads, 24 layers, 512 tokens) builds with the official names', () => {
  const full = WAN22_TI2V_5B.t5!;
  const provider = new InputWeightProvider('float16');
  const g = buildT5Graph(full, provider, { batch: 1, length: 512 }, { attention: 'fused' });
  assert.deepEqual(g.outputs[0]!.shape, [1, 512, 4096]);
  assert.deepEqual([...provider.requested.keys()].sort(), t5Params(full).map((p) => p.name).sort());
  assert.equal(g.nodes.filter((n) => n.opType === 'MultiHeadAttention').length, 24);
});

test('real-token rows do not depend on the padding length (L = 20 vs 27)', async () => {
  const a = (await run(L, {})).context;
  const L2 = 27;
  const b = (await run(L2, {})).context;
  let worst = 0;
  prompts.forEach((p, i) => {
    const ra = a.subarray(i * L * cfg.dim, i * L * cfg.dim + p.length * cfg.dim);
    const rb = b.subarray(i * L2 * cfg.dim, i * L2 * cfg.dim + p.length * cfg.dim);
    worst = Math.max(worst, relError(rb, ra));
  });
  console.log(`  padding 20 vs 27: rel difference ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-6, `rel difference ${worst}`);
  // And the float64 reference agrees exactly: masked keys contribute nothing at any length.
  const p = prompts[1]!;
  const longer = t5Reference(cfg, refWeights, padded(p, L2), p.length);
  assert.equal(relError(longer, reference[1]!, p.length * cfg.dim), 0);
});

test('every t5Params key is consumed, and nothing else is asked for', () => {
  const provider = new MapWeightProvider(weights);
  buildT5Graph(cfg, provider, { batch: 1, length: 6 });
  assert.deepEqual(provider.unconsumed(), []);
  assert.equal(provider.consumed.size, t5Params(cfg).length);
});

test('bad inputs fail at build time with a ShapeError', () => {
  const g = new Graph();
  const provider = new MapWeightProvider(weights);
  const ids = g.input('ids', 'int64', [1, 6]);
  assert.throws(() => t5Forward(g, cfg, provider, { ids, mask: g.input('mask', 'int64', [1, 7]) }), ShapeError);
  assert.throws(() => t5Forward(g, cfg, provider, { ids: g.input('f', 'float32', [1, 6]), mask: g.input('m2', 'int64', [1, 6]) }), ShapeError);
  const wrong = randomWeights(t5Params({ ...cfg, dim: 16 }), 5);
  assert.throws(() => buildT5Graph(cfg, new MapWeightProvider(wrong), { batch: 1, length: 6 }), ShapeError);
});
