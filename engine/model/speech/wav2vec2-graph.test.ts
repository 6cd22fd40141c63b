// wav2vec2 from the Hugging Face checkpoint, built by the graph language: checked against a plain
// float64 TypeScript forward written separately from transformers' modeling_wav2vec2.py on a small
// random-weight config (real conv geometry, narrow widths); the checkpoint read as safetensors with
// Wav2Vec2ForCTC's prefix and weight_g/weight_v, and as a torch .bin with torch's parametrize names,
// gives identical states; runWav2Vec2 runs the checkpoint path through its chunking.
// The official implementation's own output is checked in wav2vec2-reference.test.ts (reference data
// made by testdata/make-wav2vec2-reference.py with PyTorch and transformers).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompiledGraph } from '../../runtime/session.js';
import { seededNormal } from '../random-weights.js';
import { writeSafetensors } from '../weights/safetensors.js';
import { writeTorchCheckpoint } from '../weights/testing/torch-fixture.js';
import type { Wav2Vec2FrontEnd } from './wav2vec2.js';
import { WAV2VEC2_BASE_960H, runWav2Vec2 } from './wav2vec2.js';
import type { Wav2Vec2Config } from './wav2vec2-graph.js';
import { WAV2VEC2_BASE, Wav2Vec2ConfigError, buildWav2Vec2Graph, wav2vec2ConfigFromHf, wav2vec2Frames, wav2vec2Params } from './wav2vec2-graph.js';
import { openWav2Vec2Checkpoint } from './wav2vec2-weights.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-wav2vec2-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TINY_W2V: Wav2Vec2Config = { ...WAV2VEC2_BASE, convDim: [4, 4, 4, 4, 4, 4, 4], hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 16, posConvKernel: 4, posConvGroups: 2 };
const HF_CONFIG = {
  model_type: 'wav2vec2',
  architectures: ['Wav2Vec2ForCTC'],
  conv_dim: TINY_W2V.convDim,
  conv_kernel: TINY_W2V.convKernel,
  conv_stride: TINY_W2V.convStride,
  conv_bias: false,
  feat_extract_norm: 'group',
  feat_extract_activation: 'gelu',
  do_stable_layer_norm: false,
  hidden_act: 'gelu',
  hidden_size: 8,
  intermediate_size: 16,
  num_attention_heads: 2,
  num_hidden_layers: 2,
  num_conv_pos_embeddings: 4,
  num_conv_pos_embedding_groups: 2,
  layer_norm_eps: 1e-5,
  vocab_size: 32,
};

/** Random weights; norms around 1 so the states stay O(1). */
function weights(c: Wav2Vec2Config): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  wav2vec2Params(c).forEach((p, i) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const fanIn = p.shape.length > 1 ? n / p.shape[0]! : 1;
    let data = seededNormal(n, 100 + i, 1 / Math.sqrt(fanIn));
    if (/layer_norm\.weight$|weight_g$/.test(p.name)) data = Float32Array.from(data, (v) => 1 + 0.2 * v);
    out.set(p.name, { shape: [...p.shape], data });
  });
  return out;
}

// --- the float64 reference forward -------------------------------------------------------------------

/** erf to ~1e-12 (series below 2.5, continued fraction above). */
function erf(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}
const geluRef = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** LayerNorm of each row of rows[t][c]. */
function lnRows(rows: number[][], w: Float32Array | null, b: Float32Array | null, eps: number): number[][] {
  return rows.map((r) => {
    const m = r.reduce((a, v) => a + v, 0) / r.length;
    const v = r.reduce((a, x) => a + (x - m) ** 2, 0) / r.length;
    return r.map((x, i) => ((x - m) / Math.sqrt(v + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0));
  });
}
/** y[t][o] = b[o] + Σ_i W[o][i] x[t][i]. */
function linearRows(rows: number[][], W: Float32Array, b: Float32Array, out: number): number[][] {
  return rows.map((r) => Array.from({ length: out }, (_, o) => r.reduce((a, v, i) => a + W[o * r.length + i]! * v, b[o]!)));
}

/** Hidden states 0..layers as [frames][hidden] (Wav2Vec2Model, eval mode). */
function referenceForward(c: Wav2Vec2Config, W: Map<string, { data: Float32Array }>, audio: Float32Array): number[][][] {
  const g = (n: string) => W.get(n)!.data;
  // Feature extractor, channels-first x[c][t].
  let x: number[][] = [Array.from(audio)];
  c.convDim.forEach((cout, li) => {
    const k = c.convKernel[li]!;
    const s = c.convStride[li]!;
    const cin = x.length;
    const T = Math.floor((x[0]!.length - k) / s) + 1;
    const w = g(`feature_extractor.conv_layers.${li}.conv.weight`);
    let y = Array.from({ length: cout }, (_, o) => Array.from({ length: T }, (_, t) => {
      let a = 0;
      for (let i = 0; i < cin; i++) for (let j = 0; j < k; j++) a += w[(o * cin + i) * k + j]! * x[i]![t * s + j]!;
      return a;
    }));
    if (li === 0) {
      const gw = g('feature_extractor.conv_layers.0.layer_norm.weight');
      const gb = g('feature_extractor.conv_layers.0.layer_norm.bias');
      y = lnRows(y, null, null, 1e-5).map((row, o) => row.map((v) => v * gw[o]! + gb[o]!)); // GroupNorm(C, C): torch's default eps, not layer_norm_eps
    }
    x = y.map((row) => row.map(geluRef));
  });
  const T = x[0]!.length;
  const C = x.length;
  const H = c.hiddenSize;
  let h = Array.from({ length: T }, (_, t) => Array.from({ length: C }, (_, i) => x[i]![t]!));
  h = lnRows(h, g('feature_projection.layer_norm.weight'), g('feature_projection.layer_norm.bias'), c.eps);
  h = linearRows(h, g('feature_projection.projection.weight'), g('feature_projection.projection.bias'), H);
  // Positional conv with weight norm over dims (0, 1), padding K/2, groups, last frame dropped.
  const K = c.posConvKernel;
  const G = c.posConvGroups;
  const per = H / G;
  const v = g('encoder.pos_conv_embed.conv.weight_v');
  const gg = g('encoder.pos_conv_embed.conv.weight_g');
  const norm = Array.from({ length: K }, (_, k) => {
    let a = 0;
    for (let o = 0; o < H; o++) for (let i = 0; i < per; i++) a += v[(o * per + i) * K + k]! ** 2;
    return Math.sqrt(a);
  });
  const pb = g('encoder.pos_conv_embed.conv.bias');
  const pad = K >> 1;
  h = h.map((row, t) =>
    row.map((val, o) => {
      const grp = Math.floor(o / per);
      let a = pb[o]!;
      for (let i = 0; i < per; i++) {
        for (let k = 0; k < K; k++) {
          const src = t + k - pad;
          if (src < 0 || src >= T) continue;
          a += ((gg[k]! * v[(o * per + i) * K + k]!) / norm[k]!) * h[src]![grp * per + i]!;
        }
      }
      return val + geluRef(a);
    }),
  );
  h = lnRows(h, g('encoder.layer_norm.weight'), g('encoder.layer_norm.bias'), c.eps);
  const states = [h];
  const dh = H / c.heads;
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layers.${l}`;
    const proj = (n: string, rows: number[][]) => linearRows(rows, g(`${p}.attention.${n}.weight`), g(`${p}.attention.${n}.bias`), H);
    const q = proj('q_proj', h).map((r) => r.map((val) => val / Math.sqrt(dh)));
    const k = proj('k_proj', h);
    const vv = proj('v_proj', h);
    const att = Array.from({ length: T }, () => new Array<number>(H).fill(0));
    for (let hd = 0; hd < c.heads; hd++) {
      for (let t = 0; t < T; t++) {
        const logits = Array.from({ length: T }, (_, u) => {
          let a = 0;
          for (let d = 0; d < dh; d++) a += q[t]![hd * dh + d]! * k[u]![hd * dh + d]!;
          return a;
        });
        const mx = Math.max(...logits);
        const e = logits.map((z) => Math.exp(z - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let d = 0; d < dh; d++) att[t]![hd * dh + d] = e.reduce((a, w, u) => a + (w / z) * vv[u]![hd * dh + d]!, 0);
      }
    }
    const o = proj('out_proj', att);
    h = lnRows(h.map((r, t) => r.map((val, i) => val + o[t]![i]!)), g(`${p}.layer_norm.weight`), g(`${p}.layer_norm.bias`), c.eps);
    const mid = linearRows(h, g(`${p}.feed_forward.intermediate_dense.weight`), g(`${p}.feed_forward.intermediate_dense.bias`), c.intermediateSize).map((r) => r.map(geluRef));
    const f = linearRows(mid, g(`${p}.feed_forward.output_dense.weight`), g(`${p}.feed_forward.output_dense.bias`), H);
    h = lnRows(h.map((r, t) => r.map((val, i) => val + f[t]![i]!)), g(`${p}.final_layer_norm.weight`), g(`${p}.final_layer_norm.bias`), c.eps);
    states.push(h);
  }
  return states;
}

// --- fixtures ------------------------------------------------------------------------------------------

const W = weights(TINY_W2V);
const SAMPLES = 4000; // 0.25 s -> 12 frames
const audio = seededNormal(SAMPLES, 7, 0.3);

/** Wav2Vec2ForCTC as transformers saves it: `wav2vec2.` prefix, weight_g/weight_v, CTC head, masked_spec_embed. */
async function writeHfSafetensors(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(HF_CONFIG));
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensors(file, [
    ...[...W].map(([name, t]) => ({ name: `wav2vec2.${name}`, dtype: 'F32' as const, shape: t.shape, data: t.data })),
    { name: 'wav2vec2.masked_spec_embed', dtype: 'F32', shape: [8], data: new Float32Array(8) },
    { name: 'lm_head.weight', dtype: 'F32', shape: [32, 8], data: new Float32Array(256) },
    { name: 'lm_head.bias', dtype: 'F32', shape: [32], data: new Float32Array(32) },
  ]);
  return file;
}

/** Wav2Vec2Model saved by torch.save with torch.nn.utils.parametrize names for the weight norm. */
function writeHfBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(HF_CONFIG));
  const file = path.join(dir, 'pytorch_model.bin');
  const rename = (n: string) => n.replace('conv.weight_g', 'conv.parametrizations.weight.original0').replace('conv.weight_v', 'conv.parametrizations.weight.original1');
  const list = [...W];
  writeTorchCheckpoint(
    file,
    list.map(([, t], i) => ({ key: String(i), dtype: 'F32' as const, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) })),
    list.map(([name, t], i) => ({ name: rename(name), storage: String(i), shape: t.shape })),
    { folder: 'pytorch_model' },
  );
  return file;
}

async function runGraph(file: string, samples: Float32Array, layers: number[]): Promise<Float32Array[]> {
  const ck = await openWav2Vec2Checkpoint(file);
  const g = buildWav2Vec2Graph(ck.config, ck.provider, samples.length, { layers });
  const s = await CompiledGraph.fromGraph(g, { backend: 'cpu' });
  try {
    const r = await s.run({ input_values: samples });
    return layers.map((i) => r[`hidden_states.${i}`] as Float32Array);
  } finally {
    await s.release();
  }
}

let stFile: string;

test('the graph equals the float64 reference forward on a small random config, every hidden state', async () => {
  stFile = await writeHfSafetensors(path.join(root, 'hf-safetensors'));
  const frames = wav2vec2Frames(TINY_W2V, SAMPLES);
  assert.equal(frames, 12);
  const ref = referenceForward(TINY_W2V, W, audio);
  const got = await runGraph(stFile, audio, [0, 1, 2]);
  let worst = 0;
  got.forEach((s, i) => {
    assert.equal(s.length, frames * 8);
    for (let t = 0; t < frames; t++) for (let c = 0; c < 8; c++) worst = Math.max(worst, Math.abs(s[t * 8 + c]! - ref[i]![t]![c]!));
  });
  console.log(`  wav2vec2 graph vs float64 reference: max |diff| ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `max |diff| ${worst}`);
});

test('safetensors (Wav2Vec2ForCTC, weight_g/weight_v) and .bin (Wav2Vec2Model, parametrize names) give identical states', async () => {
  const ck = await openWav2Vec2Checkpoint(stFile);
  assert.deepEqual(ck.config, { ...TINY_W2V });
  assert.equal(ck.configSource, path.join(root, 'hf-safetensors', 'config.json'));
  assert.deepEqual(ck.unused, ['lm_head.bias', 'lm_head.weight', 'wav2vec2.masked_spec_embed']);
  const bin = writeHfBin(path.join(root, 'hf-bin'));
  const [a, b] = [await runGraph(stFile, audio, [2]), await runGraph(bin, audio, [2])];
  assert.deepEqual(Array.from(b[0]!), Array.from(a[0]!));
  // A checkpoint without the encoder's tensors names what is missing.
  const empty = path.join(root, 'empty', 'model.safetensors');
  mkdirSync(path.dirname(empty));
  await writeSafetensors(empty, [{ name: 'lm_head.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
  await assert.rejects(openWav2Vec2Checkpoint(empty, { config: TINY_W2V }), /wav2vec2 parameter\(s\) missing \(feature_extractor\.conv_layers\.0\.conv\.weight/);
});

test('runWav2Vec2 runs the checkpoint through its chunks: each chunk is the graph over its window', async () => {
  const fe: Wav2Vec2FrontEnd = { ...WAV2VEC2_BASE_960H, model: 'tiny', hiddenSize: 8, layers: [0, 2], normalizeInput: false, chunkSeconds: 0.2, contextSeconds: 0.04 };
  const long = seededNormal(8000, 9, 0.3); // 0.5 s -> 25 rows, 3 chunks of 10 frames
  const { states, frames } = await runWav2Vec2(stFile, long, fe, { backend: 'cpu' });
  assert.equal(frames, 25);
  assert.equal(states.length, 2);
  assert.equal(states[0]!.length, 25 * 8);
  // Chunk 2 covers frames 10..19; its window is samples 3200 − 640 .. 3200 + 3200 + 640.
  const window = long.slice(3200 - 640, 3200 + 3200 + 640);
  const direct = await runGraph(stFile, window, [2]);
  const skip = 2; // 640 samples of context = 2 frames
  for (let j = 0; j < 10; j++) for (let c = 0; c < 8; c++) assert.equal(states[1]![(10 + j) * 8 + c], direct[0]![(skip + j) * 8 + c]);
  // A checkpoint of another width than the front-end expects is refused before running.
  await assert.rejects(runWav2Vec2(stFile, long, { ...fe, hiddenSize: 768 }), /has hidden size 8, the speech front-end expects 768/);
});

test('config.json: the base layout is read; options the graph does not build are refused by name', () => {
  assert.deepEqual(wav2vec2ConfigFromHf({ model_type: 'wav2vec2', hidden_size: 768, num_hidden_layers: 12 }, 'c.json'), WAV2VEC2_BASE);
  // Wav2Vec2Model (base) without masked_spec_embed: 94,371,712 − 768 parameters in the encoder.
  assert.equal(wav2vec2Params(WAV2VEC2_BASE).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0), 94_370_944);
  const bad = (o: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => wav2vec2ConfigFromHf({ ...HF_CONFIG, ...o }, 'cfg.json'), (e: unknown) => e instanceof Wav2Vec2ConfigError && re.test(e.message));
  bad({ do_stable_layer_norm: true }, /^cfg\.json: do_stable_layer_norm true is not supported, only false/);
  bad({ feat_extract_norm: 'layer' }, /feat_extract_norm "layer" is not supported, only "group"/);
  bad({ hidden_act: 'relu' }, /hidden_act "relu" is not supported/);
  bad({ position_embeddings_type: 'rotary' }, /position_embeddings_type "rotary" is not supported/);
  bad({ add_adapter: true }, /add_adapter true is not supported, only false/);
  bad({ model_type: 'hubert' }, /model_type "hubert" is not supported, only "wav2vec2"/);
  bad({ num_attention_heads: 3 }, /hidden_size 8 must split into 3 heads/);
});
