// The full-size plan is only ever run on a rare GPU machine, so every graph it builds is built here
// first (no weights: initializers point at an external file that is never read), and the report's
// projection arithmetic is checked on known numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Graph, Tensor } from '../../engine/graph/graph.js';
import { serialize } from '../../engine/graph/onnx/serialize.js';
import { buildDitGraph } from '../../engine/model/dit/dit.js';
import { ditParams } from '../../engine/model/inventory/dit.js';
import { countParams } from '../../engine/model/inventory/types.js';
import { buildReFreeGraph } from '../../engine/model/refree/model.js';
import { decodeChunkGraph } from '../../engine/model/vae/decoder.js';
import type { WeightProvider } from '../../engine/model/weight-provider.js';
import { gpuPlan, localPlan, STAGES } from './plan.js';
import type { StageRecord } from './report.js';
import { deriveResults, parsePlacement } from './report.js';

/** Every weight as an external float16 initializer of the right size in a file that does not exist. */
const noWeights: WeightProvider = {
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    const have = [...g.initializers.keys()].find((t) => t.name === name);
    return have ?? g.initializer(name, 'float16', shape, { kind: 'external', location: 'weights/none.safetensors', offset: 0, length: 2 * shape.reduce((a, b) => a * b, 1) });
  },
};

test('the full-size plan: 5B DiT with and without speech, VAE decode at 480×480, reduced-width precision DiT', { timeout: 120_000 }, () => {
  const p = gpuPlan();
  assert.equal(countParams(ditParams(p.arch.dit)), 4_999_787_712);
  const size = { batch: 1, ...p.latent };
  const want = [1, 48, 21, 30, 30];
  const dit = buildDitGraph(p.arch.dit, noWeights, size, { dtype: 'float16', attention: 'fused' });
  assert.deepEqual(dit.outputs[0]!.shape, want);
  assert.equal(dit.outputs[0]!.dtype, 'float16');
  const bytes = serialize(dit);
  assert.ok(bytes.byteLength < 64 * 2 ** 20, `the 5B graph is ${bytes.byteLength} bytes without its weights`);
  const s2v = buildReFreeGraph(p.arch.dit, p.refree, noWeights, size, { dtype: 'float16', attention: 'fused', speechMask: true });
  assert.deepEqual(s2v.outputs[0]!.shape, want);
  assert.deepEqual(s2v.inputs.find((t) => t.name === 'speech_features')!.shape, [1, 81, p.refree.speechDim]);
  for (const first of [true, false]) {
    const v = decodeChunkGraph(p.arch.vae, noWeights, { first, frames: 1, height: 480, width: 480, attention: 'naive' });
    assert.deepEqual(v.output.shape, [1, 3, first ? 1 : 4, 480, 480]);
  }
  const prec = buildDitGraph(p.precision.dit, noWeights, size, { dtype: 'float32', attention: 'fused' });
  assert.deepEqual(prec.outputs[0]!.shape, want);
  assert.equal(p.precision.dit.layers, p.arch.dit.layers, 'full depth');
  assert.equal(p.precision.dit.dim / p.precision.dit.heads, p.arch.dit.dim / p.arch.dit.heads, 'same head width');
  // 9 minutes at most, whatever the stages' own budgets add up to.
  assert.ok(p.totalSeconds <= 540);
  assert.deepEqual(Object.keys(p.budgets), [...STAGES]);
});

test('projected frames per second: frames / (steps × passes × step + VAE decode)', () => {
  const p = localPlan();
  const ok = (data: Record<string, unknown>): StageRecord => ({ status: 'ok', seconds: 1, budgetSeconds: 1, reason: null, gpuMemory: { peakMiB: 2048, baselineMiB: 0, samples: 3, reason: null }, data });
  const r = deriveResults(p, { dit: ok({ stepSeconds: 0.5, nonFinite: 0 }), ditSpeech: ok({ stepSeconds: 1 }), vae: ok({ decodeSeconds: 2 }) });
  const frames = p.pixels.frames;
  assert.equal(r.projectedFps.dit.steps50, frames / (50 * 0.5 + 2));
  assert.equal(r.projectedFps.dit.steps8, frames / (8 * 0.5 + 2));
  assert.equal(r.projectedFps.ditSpeechGuided.steps8, frames / (8 * 2 * 1 + 2));
  assert.equal(r.peakGpuMiB.dit, 2048);
  assert.equal(r.precision.velocityMaxRelErr, null);
  assert.equal(r.loraSft.available, null);
  const failed = deriveResults(p, { dit: { ...ok({ stepSeconds: 0.5 }), status: 'timeout' } });
  assert.equal(failed.ditStepSeconds, null, 'a stage that did not finish gives no numbers');
  assert.equal(failed.projectedFps.dit.steps50, null);
});

test('CPU-placed nodes are read from ORT\'s verbose placement log, per graph', () => {
  const log = [
    '@@placement dit',
    '2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
    '2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2',
    '2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Cos (time.Cos)',
    '\x1b[0;93m2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Sin (time.Sin)\x1b[m',
    '2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 1',
    '2026-12-07 00:38:20.37 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Gemm (patch_embedding.Gemm)',
    '@@placement vae',
    '2026-12-07 00:38:21.00 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 1',
    '2026-12-07 00:38:21.00 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Conv (decoder.conv1.Conv)',
  ];
  assert.deepEqual(parsePlacement(log), { dit: ['Cos (time.Cos)', 'Sin (time.Sin)'], vae: [] });
});
