import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from './graph.js';
import { adamw, adamwInputs, adamwReference, ema, emaReference } from './optim.js';
import type { AdamWConfig } from './optim.js';
import { CompiledGraph } from '../runtime/session.js';
import { seededValues } from '../exec/gradcheck.js';
import { ShapeError } from './errors.js';

const N = 1000;
const f32 = (n: number, seed: number, lo = -1, hi = 1): Float32Array => Float32Array.from(seededValues(n, seed, lo, hi));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

async function adamGraph(config: AdamWConfig): Promise<CompiledGraph> {
  const g = new Graph('adamw');
  const s = adamwInputs(g, N);
  const grad = g.input('grad', 'float32', [N]);
  const out = adamw(s, grad, config);
  const outputs = [g.alias(out.params, 'params_out'), g.alias(out.m, 'm_out'), g.alias(out.v, 'v_out'), g.alias(out.step, 'step_out')];
  return CompiledGraph.fromGraph(g, { outputs });
}

for (const [label, config] of [
  ['defaults', {}],
  ['weight decay + clipping + custom betas', { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, maxGradNorm: 0.5 }],
] as [string, AdamWConfig][]) {
  test(`AdamW graph step equals the JS (PyTorch) reference to 1e-6, ${label}, over 5 steps`, async () => {
    const session = await adamGraph(config);
    // Host state in float64; the graph's float32 state is fed back from its own outputs.
    const host = { params: Float64Array.from(f32(N, 1)), m: new Float64Array(N), v: new Float64Array(N) };
    let feeds: Record<string, Float32Array> = { params: f32(N, 1), adam_m: new Float32Array(N), adam_v: new Float32Array(N), step: Float32Array.of(1), lr: Float32Array.of(0.01) };
    for (let step = 1; step <= 5; step++) {
      const grad = f32(N, 100 + step, -2, 2);
      const lr = 0.01 / step; // a schedule: lr is an input
      feeds = { ...feeds, lr: Float32Array.of(lr) };
      const out = await session.run({ ...feeds, grad });
      adamwReference(host, grad, step, lr, config);
      const dp = maxAbsDiff(out.params_out as Float32Array, host.params);
      const dm = maxAbsDiff(out.m_out as Float32Array, host.m);
      const dv = maxAbsDiff(out.v_out as Float32Array, host.v);
      assert.ok(dp <= 1e-6 && dm <= 1e-6 && dv <= 1e-6, `step ${step}: |Δp| ${dp}, |Δm| ${dm}, |Δv| ${dv}`);
      assert.equal((out.step_out as Float32Array)[0], step + 1);
      // Parameters must actually move (a no-op update would pass the comparison above trivially only if the reference also stood still).
      assert.ok(maxAbsDiff(out.params_out as Float32Array, feeds.params!) > 1e-4);
      feeds = { params: out.params_out as Float32Array, adam_m: out.m_out as Float32Array, adam_v: out.v_out as Float32Array, step: out.step_out as Float32Array, lr: feeds.lr! };
    }
    await session.release();
  });
}

test('EMA graph equals the JS reference to 1e-6, with constant and input decay', async () => {
  const g = new Graph('ema');
  const avg = g.input('ema', 'float32', [N]);
  const p = g.input('params', 'float32', [N]);
  const decay = g.input('decay', 'float32', []);
  const outs = [g.alias(ema(avg, p, 0.9), 'ema_const'), g.alias(ema(avg, p, decay), 'ema_input')];
  const s = await CompiledGraph.fromGraph(g, { outputs: outs });
  const a = f32(N, 7);
  const x = f32(N, 8);
  const out = await s.run({ ema: a, params: x, decay: Float32Array.of(0.99) });
  const ref1 = Float64Array.from(a);
  emaReference(ref1, x, 0.9);
  const ref2 = Float64Array.from(a);
  emaReference(ref2, x, 0.99);
  assert.ok(maxAbsDiff(out.ema_const as Float32Array, ref1) <= 1e-6);
  assert.ok(maxAbsDiff(out.ema_input as Float32Array, ref2) <= 1e-6);
  assert.ok(maxAbsDiff(ref1, ref2) > 1e-3, 'the two decays must give different averages');
  await s.release();
});

test('AdamW update is about a dozen vector-sized nodes on the flat vector (the rest are scalars)', () => {
  const g = new Graph();
  const s = adamwInputs(g, 10);
  adamw(s, g.input('grad', 'float32', [10]));
  const vectorNodes = g.nodes.filter((n) => n.outputs[0]!.size === 10).length;
  assert.ok(vectorNodes <= 14, `${vectorNodes} vector nodes`);
  assert.ok(g.nodes.length <= 26, `${g.nodes.length} nodes`);
});

test('AdamW rejects mismatched vectors at build time', () => {
  const g = new Graph();
  const s = adamwInputs(g, 10);
  assert.throws(() => adamw(s, g.input('grad', 'float32', [11])), (e: unknown) => e instanceof ShapeError && /\[10\]/.test(e.message) && /\[11\]/.test(e.message));
});
