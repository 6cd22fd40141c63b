// LoRA training graphs: A/B as float64 graph inputs through the hook, base weights frozen initializers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Tensor } from '../../graph/graph.js';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { mul } from '../../graph/ops/elementwise.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import type { DitConfig } from '../config.js';
import { ditForward } from '../dit/dit.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights } from '../random-weights.js';
import { InputWeightProvider, MapWeightProvider } from '../weight-provider.js';
import { loraHook } from './hook.js';

// A micro DiT (as in dit-grad.test.ts) so finite differences stay quick.
const cfg: DitConfig = { inDim: 4, outDim: 4, patch: [1, 2, 2], dim: 24, ffnDim: 32, heads: 2, layers: 1, freqDim: 8, textDim: 8, textLen: 3, eps: 1e-6 };
const base = new MapWeightProvider(randomWeights(ditParams(cfg), 3));
const wrtNames = ['blocks.0.self_attn.q.lora_A.weight', 'blocks.0.self_attn.q.lora_B.weight', 'blocks.0.cross_attn.k.lora_A.weight', 'blocks.0.cross_attn.o.lora_B.weight', 'blocks.0.ffn.0.lora_A.weight', 'blocks.0.ffn.2.lora_B.weight'];

test('LoRA A/B gradients through the DiT (naive attention) match float64 finite differences; base weights are not inputs', async () => {
  let names: string[] = [];
  const build = (g: Graph): { loss: Tensor; wrt: Tensor[] } => {
    const lora = new InputWeightProvider('float64');
    const latents = g.input('latents', 'float64', [1, cfg.inDim, 2, 2, 4]);
    const timesteps = g.input('timesteps', 'float64', [1, 2]);
    const context = g.input('context', 'float64', [1, cfg.textLen, cfg.textDim]);
    const v = ditForward(g, cfg, base, { latents, timesteps, context }, { attention: 'naive', linear: loraHook({ rank: 2, alpha: 3, multiplier: 0.7 }, lora) });
    names = g.inputs.map((t) => t.name);
    const probe = g.constant('float64', v.shape, seededValues(v.size, 99));
    return { loss: reduceSum(mul(v, probe)), wrt: wrtNames.map((n) => g.inputs.find((t) => t.name === n)!) };
  };
  const r = await gradcheck(build, { timesteps: Float64Array.of(0, 700) }, { samplesPerTensor: 6 });
  console.log(`  LoRA gradcheck: max rel error ${r.maxRelError.toExponential(2)} over ${r.checked} entries`);
  assert.equal(names.length, 3 + 2 * 10, 'latents, timesteps, context + A/B of the 10 targets of the one block');
  assert.ok(!names.some((n) => n.endsWith('.weight') && !n.includes('.lora_')), 'base weights stay initializers');
  assert.ok(r.checked === 36 && r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});
