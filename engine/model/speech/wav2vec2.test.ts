import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx/serialize.js';
import { conv } from '../../graph/ops/conv.js';
import { mul } from '../../graph/ops/elementwise.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import { subStepTimes } from './align.js';
import type { Wav2Vec2FrontEnd } from './wav2vec2.js';
import { WAV2VEC2_BASE_960H, alignHiddenStates, runWav2Vec2, wav2vec2FeatureWidth, wav2vec2FrameCount } from './wav2vec2.js';

test('wav2vec2 front-end width and frame geometry', () => {
  assert.equal(wav2vec2FeatureWidth(WAV2VEC2_BASE_960H), 2304); // = REFREE_5B.speechDim
  assert.equal(wav2vec2FeatureWidth({ ...WAV2VEC2_BASE_960H, combine: 'mean', context: 2 }), 1536);
  assert.equal(wav2vec2FrameCount(16000), 49); // HF: 1 s → 49 frames
  assert.equal(wav2vec2FrameCount(399), 0);
});

test('alignment of synthetic 50 Hz hidden states to 15 fps: rows follow the frame times, layers concatenated', () => {
  const c: Wav2Vec2FrontEnd = { ...WAV2VEC2_BASE_960H, hiddenSize: 2, layers: [4, 12], resample: 'linear' };
  const frames = 150; // 3 s
  // Layer 4: channel 0 = the frame's centre time (20 j + 12.5 ms), channel 1 = 1; layer 12: 10× that.
  const l4 = Float32Array.from({ length: frames * 2 }, (_, i) => (i % 2 ? 1 : 0.02 * Math.floor(i / 2) + 0.0125));
  const l12 = Float32Array.from(l4, (v) => 10 * v);
  const rows = alignHiddenStates(c, [l4, l12], frames, 15, 45);
  assert.equal(rows.length, 45 * 4);
  for (let k = 1; k < 45; k++) {
    assert.ok(Math.abs(rows[k * 4]! - k / 15) < 1e-6, `row ${k}: ${rows[k * 4]} s`);
    assert.ok(Math.abs(rows[k * 4 + 2]! - (10 * k) / 15) < 1e-5);
    assert.equal(rows[k * 4 + 1], 1);
  }
  // Area resampling with context 2 samples the middle of each half frame; 'mean' averages the layers.
  const m = alignHiddenStates({ ...c, resample: 'area', combine: 'mean', context: 2 }, [l4, l12], frames, 15, 45);
  const t = subStepTimes(15, 45, 2);
  for (let n = 4; n < 88; n++) assert.ok(Math.abs(m[n * 2]! - 5.5 * t[n]!) < 5.5 * 0.002, `sub-step ${n}: ${m[n * 2]} vs ${5.5 * t[n]!}`);
  assert.throws(() => alignHiddenStates(c, [l4], frames, 15, 45), /1 hidden states given/);
});

/**
 * A stand-in ONNX component with the wav2vec2 contract (input_values [1, n] → hidden_states.{i}
 * [1, frames, 2]): each frame is the mean of its 400 samples (channel 0) and of their squares' proxy
 * (channel 1: mean × 2), times the layer index, computed by a 400-wide stride-320 convolution.
 */
function standIn(window: number, layers: readonly number[]): Uint8Array {
  const g = new Graph('wav2vec2_standin');
  const x = g.input('input_values', 'float32', [1, window]);
  const w = g.constant('float32', [2, 1, 400], Array.from({ length: 800 }, (_, i) => (i < 400 ? 1 : 2) / 400));
  const h = transpose(conv(reshape(x, [1, 1, window]), w, null, { strides: [320] }), [0, 2, 1]);
  const outs = layers.map((i) => g.output(mul(h, i), `hidden_states.${i}`));
  return serialize(g, { outputs: outs });
}

test('runWav2Vec2 stitches fixed-size chunks into exactly the unchunked frame sequence', async () => {
  const c: Wav2Vec2FrontEnd = { ...WAV2VEC2_BASE_960H, hiddenSize: 2, layers: [3, 7], normalizeInput: false, chunkSeconds: 0.4, contextSeconds: 0.04 };
  const window = 6400 + 2 * 640; // (0.4 + 2·0.04) s at 16 kHz
  const n = 16000 + 1234; // 1.08 s: 3 chunks, the last one partial
  const audio = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 50) + 0.001 * (i % 97));
  const { states, frames } = await runWav2Vec2(standIn(window, c.layers), audio, c);
  assert.equal(frames, Math.ceil(n / 320));
  let err = 0;
  for (let j = 0; j < frames; j++) {
    let s = 0;
    for (let k = 0; k < 400; k++) s += audio[320 * j + k] ?? 0; // zero past the end, as the chunk pads
    for (const [li, layer] of c.layers.entries()) {
      err = Math.max(err, Math.abs(states[li]![2 * j]! - (layer * s) / 400), Math.abs(states[li]![2 * j + 1]! - (2 * layer * s) / 400));
    }
  }
  assert.ok(err < 1e-5, `max error ${err}`);
  // Normalisation makes the clip zero-mean, unit-variance before chunking.
  const off = Float32Array.from(audio, (v) => 3 * v + 5);
  const a = await runWav2Vec2(standIn(window, c.layers), audio, { ...c, normalizeInput: true });
  const b = await runWav2Vec2(standIn(window, c.layers), off, { ...c, normalizeInput: true });
  assert.ok(a.states[0]!.every((v, i) => Math.abs(v - b.states[0]![i]!) < 1e-4));
});
