import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Tensor } from '../graph.js';
import { fillInit, normalInit } from '../params.js';
import type { ParamLayout } from '../params.js';
import { mul, sub } from '../ops/elementwise.js';
import { reduceMean } from '../ops/reduce.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { LoraConfig, Weights } from './lora.js';
import { loraLinear } from './lora.js';
import type { TransformerConfig } from './transformer.js';
import { affineLayerNorm, transformerStack } from './transformer.js';
import { buildForwardGraph, buildTrainGraph } from './train-step.js';
import { Trainer } from '../../exec/trainer.js';
import { gradcheck } from '../../exec/gradcheck.js';
import { InputParams } from '../params.js';
import { tanh } from '../ops/elementwise.js';
import { webgpuUnavailableReason } from '../../exec/webgpu-probe.js';

// A fixed synthetic task that LoRA can solve exactly: regress the outputs of the same frozen
// transformer with a random (teacher) LoRA delta. The student starts from B = 0, i.e. the base model.
const B = 4;
const T = 8;
const DIN = 8;
const DOUT = 8;
const CFG: TransformerConfig = { dim: 32, heads: 4, ffnDim: 64, layers: 2 };
const LORA: LoraConfig = { rank: 4, alpha: 4, targets: (n) => n.startsWith('blocks.') };

function model(g: Graph, w: Weights): Tensor {
  const x = g.input('x', 'float32', [B, T, DIN]);
  const h = transformerStack(w, 'blocks', loraLinear(w, 'embed', x, DIN, CFG.dim), CFG);
  return loraLinear(w, 'head', affineLayerNorm(w, 'norm_out', h, CFG.dim, 1e-5), CFG.dim, DOUT);
}

function mseLoss(g: Graph, w: Weights): Tensor {
  const y = model(g, w);
  const target = g.input('target', 'float32', [B, T, DOUT]);
  const d = sub(y, target);
  return reduceMean(mul(d, d));
}

function teacherParams(layout: ParamLayout): Float32Array {
  const p = new Float32Array(layout.size);
  for (const e of layout.entries) fillInit(layout.view(p, e.name), normalInit(0.2), 99, e.name);
  return p;
}

async function makeData(layout: ParamLayout, batches: number): Promise<{ x: Float32Array; target: Float32Array }[]> {
  const fwd = buildForwardGraph((g, w) => [model(g, w)], layout, { lora: LORA });
  const s = await CompiledGraph.fromGraph(fwd.graph, { outputs: fwd.outputs });
  const teacher = teacherParams(layout);
  const data: { x: Float32Array; target: Float32Array }[] = [];
  for (let i = 0; i < batches; i++) {
    const x = new Float32Array(B * T * DIN);
    fillInit(x, normalInit(1), i, 'data');
    const out = await s.run({ x, params: teacher });
    data.push({ x, target: out.out_0 as Float32Array });
  }
  await s.release();
  return data;
}

test('a 2-layer LoRA transformer trains in one fwd+bwd+AdamW session: loss at least halves within 200 steps', async () => {
  const tg = buildTrainGraph({ loss: mseLoss, lora: LORA, adam: { weightDecay: 0 } });
  // Only adapters are trainable: 2 blocks × 6 linears × (A + B).
  assert.equal(tg.layout.entries.length, 24);
  assert.ok(tg.layout.entries.every((e) => /lora_[AB]\.weight$/.test(e.name)));
  const data = await makeData(tg.layout, 8);
  const trainer = await Trainer.open(tg, { seed: 0 });
  const losses: number[] = [];
  for (let i = 0; i < 200; i++) losses.push(await trainer.step(data[i % data.length]!, 1e-2));
  await trainer.release();
  const first = (losses[0]! + losses[1]!) / 2;
  const last = losses.slice(-8).reduce((a, b) => a + b, 0) / 8;
  console.log(`LoRA transformer: loss ${first.toExponential(3)} → ${last.toExponential(3)} over 200 steps (${((1 - last / first) * 100).toFixed(1)}% lower)`);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(last <= first / 2, `loss fell only from ${first} to ${last}`);
});

test('the same training graph on the WebGPU backend (no CPU fallback) matches CPU to 1e-4 over 3 steps', async (t) => {
  const reason = await webgpuUnavailableReason();
  if (reason) {
    console.log(`skipping WebGPU comparison: no WebGPU session could be created (${reason})`);
    t.skip(`no WebGPU adapter: ${reason}`);
    return;
  }
  const tg = buildTrainGraph({ loss: mseLoss, lora: LORA, adam: { weightDecay: 0.01 } });
  const data = await makeData(tg.layout, 3);
  const cpu = await Trainer.open(tg, { seed: 3 });
  const gpu = await Trainer.open(tg, { seed: 3, backend: 'webgpu', disableCpuFallback: true });
  // Start from nonzero B so every gradient path is exercised from the first step.
  const start = teacherParams(tg.layout).map((v) => v * 0.5);
  cpu.params = Float32Array.from(start);
  gpu.params = Float32Array.from(start);
  for (let i = 0; i < 3; i++) {
    const lc = await cpu.step(data[i]!, 1e-2);
    const lg = await gpu.step(data[i]!, 1e-2);
    assert.ok(Math.abs(lc - lg) <= 1e-4 * Math.max(1, Math.abs(lc)), `step ${i}: loss cpu ${lc} webgpu ${lg}`);
    let worst = 0;
    for (const [a, b] of [
      [cpu.params, gpu.params],
      [cpu.m, gpu.m],
      [cpu.v, gpu.v],
    ] as const) {
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!));
    }
    console.log(`step ${i}: loss cpu ${lc.toExponential(6)} webgpu ${lg.toExponential(6)}, max |Δ state| ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `step ${i}: params/moments differ by ${worst}`);
  }
  await cpu.release();
  await gpu.release();
});

test('pre-LN transformer block gradients (LoRA and base weights, input) match float64 finite differences', async () => {
  const cfg: TransformerConfig = { dim: 8, heads: 2, ffnDim: 12, layers: 1 };
  const r = await gradcheck((g) => {
    const ps = new InputParams(g, 'float64');
    const w: Weights = { frozen: ps, trainable: ps, lora: { rank: 2, alpha: 3 } };
    const x = g.input('x', 'float64', [2, 3, 8]);
    // A mean keeps the loss O(1), so the finite differences' rounding noise stays ~1e-11.
    const loss = reduceMean(tanh(transformerStack(w, 'blocks', x, cfg)));
    // A key bias shifts every logit of a query row equally, so softmax cancels it: its gradient is
    // exactly zero and its finite difference is pure rounding noise; leave it out.
    const wrt = [x, ...[...ps.tensors.values()].filter((t) => !t.name.endsWith('.k.bias'))];
    return { loss, wrt };
  });
  assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
});
