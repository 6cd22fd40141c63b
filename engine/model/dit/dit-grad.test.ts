import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { grad } from '../../graph/autodiff.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { Feeds } from '../../runtime/session.js';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { mul } from '../../graph/ops/elementwise.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import type { DitConfig } from '../config.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights } from '../random-weights.js';
import { InputWeightProvider } from '../weight-provider.js';
import type { DitOptions } from './dit.js';
import { ditForward } from './dit.js';

// A micro DiT (head dim 12 → RoPE 4/4/4, 2 frames × 2 tokens) so the checks stay quick.
const cfg: DitConfig = { inDim: 4, outDim: 4, patch: [1, 2, 2], dim: 24, ffnDim: 32, heads: 2, layers: 1, freqDim: 8, textDim: 8, textLen: 3, eps: 1e-6 };
const wrtNames = ['patch_embedding.weight', 'text_embedding.0.weight', 'blocks.0.modulation', 'blocks.0.self_attn.q.weight', 'blocks.0.self_attn.norm_k.weight', 'blocks.0.norm3.weight', 'blocks.0.cross_attn.k.weight', 'blocks.0.ffn.0.weight', 'head.modulation'];

const feeds: Feeds = { timesteps: Float64Array.from([0, 700]) }; // TI2V: frame 0 at t = 0
for (const [name, e] of randomWeights(ditParams(cfg), 3)) feeds[name] = Float64Array.from((e.data as { data: Float32Array }).data);

/** loss = Σ velocity·probe, differentiated w.r.t. latents, context and a spread of weights. */
function build(g: Graph, opts: DitOptions): { loss: Tensor; wrt: Tensor[] } {
  const latents = g.input('latents', 'float64', [1, cfg.inDim, 2, 2, 4]);
  const timesteps = g.input('timesteps', 'float64', [1, 2]);
  const context = g.input('context', 'float64', [1, cfg.textLen, cfg.textDim]);
  const v = ditForward(g, cfg, new InputWeightProvider('float64'), { latents, timesteps, context }, opts);
  const probe = g.constant('float64', v.shape, seededValues(v.size, 99));
  return { loss: reduceSum(mul(v, probe)), wrt: [latents, context, ...wrtNames.map((n) => g.inputs.find((t) => t.name === n)!)] };
}

test('DiT forward is differentiable (naive attention): float64 gradients match finite differences', async () => {
  const r = await gradcheck((g) => build(g, { attention: 'naive' }), { ...feeds }, { samplesPerTensor: 6 });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

test('blockwise-attention DiT gives the same gradients as the naive one', async () => {
  const run = async (opts: DitOptions): Promise<Float64Array[]> => {
    const g = new Graph();
    const { loss, wrt } = build(g, opts);
    const outs = grad(loss, wrt).map((t, i) => g.alias(t, `grad_${i}`));
    const all: Feeds = { ...feeds };
    g.inputs.forEach((t, i) => (all[t.name] ??= seededValues(t.size, 1234 + 17 * i)));
    const c = await CompiledGraph.fromGraph(g, { outputs: outs, optimization: 'basic', disableCse: true });
    const r = await c.run(all);
    await c.release();
    return outs.map((o) => r[o.name] as Float64Array);
  };
  const naive = await run({ attention: 'naive' });
  const blockwise = await run({ attention: 'blockwise', blockSize: 3 });
  naive.forEach((n, i) => {
    const scale = Math.max(...n.map(Math.abs));
    const diff = Math.max(...n.map((v, j) => Math.abs(v - blockwise[i]![j]!)));
    assert.ok(scale > 0 && diff <= 1e-12 * Math.max(1, scale), `gradient ${i}: max diff ${diff} (scale ${scale})`);
  });
});
