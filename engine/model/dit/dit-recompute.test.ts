import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
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
import { ditForward } from './dit.js';

// Two blocks so that one recomputed region feeds the next.
const cfg: DitConfig = { inDim: 4, outDim: 4, patch: [1, 2, 2], dim: 24, ffnDim: 32, heads: 2, layers: 2, freqDim: 8, textDim: 8, textLen: 3, eps: 1e-6 };
const wrtNames = ['patch_embedding.weight', 'blocks.0.modulation', 'blocks.0.self_attn.q.weight', 'blocks.1.cross_attn.k.weight', 'blocks.1.ffn.2.weight', 'head.head.weight'];
const feeds: Feeds = { timesteps: Float64Array.from([0, 700]) };
for (const [name, e] of randomWeights(ditParams(cfg), 5)) feeds[name] = Float64Array.from((e.data as { data: Float32Array }).data);

function build(g: Graph, recompute: boolean) {
  const latents = g.input('latents', 'float64', [1, cfg.inDim, 2, 2, 4]);
  const timesteps = g.input('timesteps', 'float64', [1, 2]);
  const context = g.input('context', 'float64', [1, cfg.textLen, cfg.textDim]);
  const v = ditForward(g, cfg, new InputWeightProvider('float64'), { latents, timesteps, context }, { attention: 'naive', recompute });
  const probe = g.constant('float64', v.shape, seededValues(v.size, 7));
  return { loss: reduceSum(mul(v, probe)), wrt: [latents, context, ...wrtNames.map((n) => g.inputs.find((t) => t.name === n)!)] };
}

test('per-block recomputation gives the same gradients as keeping the activations', async () => {
  const run = async (recompute: boolean): Promise<{ grads: Float64Array[]; nodes: number }> => {
    const g = new Graph();
    const { loss, wrt } = build(g, recompute);
    const outs = grad(loss, wrt).map((t, i) => g.alias(t, `grad_${i}`));
    const all: Feeds = { ...feeds };
    g.inputs.forEach((t, i) => (all[t.name] ??= seededValues(t.size, 300 + 13 * i)));
    const c = await CompiledGraph.fromGraph(g, { outputs: outs, optimization: 'basic', disableCse: true });
    const r = await c.run(all);
    await c.release();
    return { grads: outs.map((o) => r[o.name] as Float64Array), nodes: g.nodes.length };
  };
  const kept = await run(false);
  const recomputed = await run(true);
  // The recomputed graph really holds a second copy of the blocks' forward nodes.
  assert.ok(recomputed.nodes > kept.nodes * 1.2, `recompute graph has ${recomputed.nodes} nodes vs ${kept.nodes}`);
  kept.grads.forEach((k, i) => {
    const scale = Math.max(...k.map(Math.abs));
    const diff = Math.max(...k.map((v, j) => Math.abs(v - recomputed.grads[i]![j]!)));
    assert.ok(scale > 0 && diff <= 1e-12 * Math.max(1, scale), `gradient ${i}: max diff ${diff} (scale ${scale})`);
  });
});

test('recomputed DiT gradients match float64 finite differences', async () => {
  const r = await gradcheck((g) => build(g, true), { ...feeds }, { samplesPerTensor: 4 });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});
