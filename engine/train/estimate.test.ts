import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph/graph.js';
import { emitNodes } from '../graph/onnx/serialize.js';
import { add, mul } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/matmul.js';
import { reshape } from '../graph/ops/shape.js';
import { WAN22_TI2V_5B } from '../model/config.js';
import { REFREE_5B } from '../model/refree/config.js';
import type { TrainEstimateRequest } from './estimate.js';
import { buildEstimateGraph, estimateTrainStep, formatEstimate, ortDefaultOrder, simulateGraph } from './estimate.js';

const GB = 1e9;

test('the simulator frees each result after its last reader, keeps outputs, and lets views share buffers', () => {
  const g = new Graph('sim');
  const x = g.input('x', 'float32', [1000]); // 4 kB
  const w = g.initializer('w', 'float32', [1000], { kind: 'external', location: 'nowhere.bin', offset: 0, length: 4000 });
  const a = mul(x, w); // 4 kB, read by b only
  const b = add(a, 1); // 4 kB
  const v = reshape(b, [10, 100]); // a view: no new buffer
  const c = mul(v, 2); // 4 kB
  const out = g.alias(c, 'y');
  const sim = simulateGraph(g, [out], { order: 'emitted' });
  // Peak: x + w + (a, b live together while b is computed) = 16 kB; afterwards a is gone, and the
  // view v adds nothing when c is made (else 20 kB). The scalar and shape constants add a few bytes.
  assert.equal(sim.atPeak.activations, 12_000);
  assert.ok(sim.atPeak.frozenWeights >= 4000 && sim.atPeak.frozenWeights < 4100, `${sim.atPeak.frozenWeights}`);
  assert.equal(sim.peakBytes, sim.atPeak.activations + sim.atPeak.frozenWeights);
  assert.equal(sim.flops, 0);
  const m = new Graph('mm');
  const p = m.input('p', 'float32', [8, 16]);
  const q = m.input('q', 'float32', [16, 4]);
  assert.equal(simulateGraph(m, [m.alias(matmul(p, q), 'r')]).flops, 2 * 8 * 16 * 4);
});

test("the simulator's default order is ORT's depth-first walk, not the build order", () => {
  // out = concat-like sum of two branches; ORT walks the later-built producer first.
  const g = new Graph('order');
  const x = g.input('x', 'float32', [4]);
  const a = mul(x, 2); // built first
  const b = mul(x, 3); // built second
  const s = add(a, b);
  const out = g.alias(s, 'y');
  const order = ortDefaultOrder(emitNodes(g, [out])).map((n) => n.outputs[0]!.id);
  assert.deepEqual(order, [b.id, a.id, s.id, out.id]);
});

const lora = { rank: 32, alpha: 32, targets: ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] };
// 480×480 → 30×30 latents (16× VAE) → 15×15 tokens per frame; 81 video frames are 21 latent frames,
// plus the clean reference frame: 22.
const FIVE_B: TrainEstimateRequest = {
  arch: WAN22_TI2V_5B,
  refree: REFREE_5B,
  settings: { lora, ditGroups: [], frames: 22, batch: 1, recompute: true },
  size: 480,
  stage: 'sft',
  backend: 'cuda',
  baseDtype: 'float16',
  activationDtype: 'float16',
  attention: 'blockwise',
  blockSize: 512,
};

test('the full-size 5B SFT step graph (LoRA 32, 480×480, 81 frames, float16, recomputation) builds, and fits 24 GB in its build order', () => {
  const e = estimateTrainStep({ ...FIVE_B, order: 'emitted' });
  assert.deepEqual(e.details.latent, { frames: 22, h: 30, w: 30 });
  assert.equal(e.details.tokens, 22 * 15 * 15);
  assert.ok(e.details.nodes > 30_000, `only ${e.details.nodes} nodes: the graph is not the full 30-block network`);
  // The frozen weights alone are the 5B DiT in float16 (~10 GB): the estimate saw the whole network.
  assert.ok(e.breakdown.frozenWeights > 9.5 * GB && e.breakdown.frozenWeights < 10.5 * GB, `frozen ${e.breakdown.frozenWeights}`);
  assert.equal(e.breakdown.frozenWeights + e.breakdown.trainable + e.breakdown.activations, e.peakBytes);
  assert.ok(e.peakBytes <= 24 * GB, formatEstimate(e, FIVE_B));
  assert.ok(e.flops > 100e12 && e.secondsPerStep > 0);
  const text = formatEstimate(e, FIVE_B);
  assert.match(text, /peak memory about \d+\.\d\d GB/);
  assert.match(text, /Assumes: /);
});

// ORT's own order walks the flat gradient's Concat depth-first, so each block's LoRA gradients (and the
// recomputed activations they read) wait for the end of the backward pass unless autodiff makes the
// next region's recomputation wait for them (docs/TRAINING.md, "Training memory and speed").
test("in ORT's order the 5B SFT step fits 24 GB, and recomputation cuts its activations ≥ 5×", () => {
  const rc = estimateTrainStep(FIVE_B);
  assert.ok(rc.peakBytes <= 24 * GB, formatEstimate(rc, FIVE_B));
  const plain = estimateTrainStep({ ...FIVE_B, settings: { ...FIVE_B.settings, recompute: false } });
  assert.ok(plain.breakdown.activations > 5 * rc.breakdown.activations, `${plain.breakdown.activations} vs ${rc.breakdown.activations}`);
});

test('the float16 5B graph is type-consistent: every binary op and product reads one float dtype', () => {
  const { built } = buildEstimateGraph({ ...FIVE_B, settings: { ...FIVE_B.settings, frames: 2 } });
  const same = new Set(['Add', 'Sub', 'Mul', 'Div', 'MatMul', 'Gemm', 'Concat', 'Pow']);
  for (const n of emitNodes(built.graph, built.outputs)) {
    if (!same.has(n.opType)) continue;
    const types = new Set(n.inputs.filter((t) => t && t.dtype.startsWith('float')).map((t) => t!.dtype));
    assert.ok(types.size <= 1, `${n.opType} ${n.name} mixes ${[...types].join(' and ')}`);
  }
});

test('a size the VAE and patch cannot tile is refused with the multiple to use', () => {
  assert.throws(() => estimateTrainStep({ ...FIVE_B, size: 500 }), /multiple of 32 pixels/);
});
