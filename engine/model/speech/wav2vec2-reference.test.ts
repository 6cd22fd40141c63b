// wav2vec2 from the Hugging Face checkpoint, built by the graph language, against the OFFICIAL
// implementation: transformers' Wav2Vec2ForCTC (modeling_wav2vec2.py) run in PyTorch on a small
// random-weight wav2vec2-base layout (testdata/w2v2-tiny/, saved by save_pretrained, and the hidden
// states it computed, testdata/w2v2-tiny-reference.json; both made by
// testdata/make-wav2vec2-reference.py). Our loader reads that checkpoint as it is, so the weight
// names, the `wav2vec2.` prefix, torch's parametrize names for the weight norm and config.json are
// checked too, not only the arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CompiledGraph } from '../../runtime/session.js';
import { buildWav2Vec2Graph, wav2vec2Frames } from './wav2vec2-graph.js';
import { openWav2Vec2Checkpoint } from './wav2vec2-weights.js';

interface Reference {
  source: string;
  samples: number;
  inputSum: number;
  frames: number;
  hiddenSize: number;
  hiddenStates: number[][];
}

const ref = JSON.parse(readFileSync(new URL('./testdata/w2v2-tiny-reference.json', import.meta.url), 'utf8')) as Reference;
const checkpoint = fileURLToPath(new URL('./testdata/w2v2-tiny/model.safetensors', import.meta.url));

/** The script's waveform: fround((0.6 sin(0.0863 i) + 0.3 sin(0.54 i)) * (0.6 + 0.4 sin(0.0011 i))). */
function waveform(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (0.6 * Math.sin(0.0863 * i) + 0.3 * Math.sin(0.54 * i)) * (0.6 + 0.4 * Math.sin(0.0011 * i)));
}

test('the graph reproduces the official transformers wav2vec2 hidden states from its own checkpoint', async () => {
  const ck = await openWav2Vec2Checkpoint(checkpoint);
  // config.json as transformers wrote it, read by our loader.
  assert.equal(ck.config.hiddenSize, ref.hiddenSize);
  assert.equal(ck.config.posConvKernel, 16);
  assert.equal(ck.config.posConvGroups, 4);
  assert.equal(ck.config.eps, 1e-3);
  assert.deepEqual(ck.unused, ['lm_head.bias', 'lm_head.weight', 'wav2vec2.masked_spec_embed']);

  const x = waveform(ref.samples);
  let sum = 0;
  for (const v of x) sum += v;
  assert.ok(Math.abs(sum - ref.inputSum) < 1e-6 * ref.samples, `input sum ${sum} vs the script's ${ref.inputSum}`);
  assert.equal(wav2vec2Frames(ck.config, ref.samples), ref.frames);

  const layers = ref.hiddenStates.map((_, i) => i);
  const g = buildWav2Vec2Graph(ck.config, ck.provider, ref.samples, { layers });
  const s = await CompiledGraph.fromGraph(g, { backend: 'cpu' });
  let out: Record<string, unknown>;
  try {
    out = await s.run({ input_values: x });
  } finally {
    await s.release();
  }

  // Error relative to each state's largest magnitude (elementwise relative error means nothing near 0).
  const report: string[] = [];
  let worst = 0;
  for (const i of layers) {
    const got = out[`hidden_states.${i}`] as Float32Array;
    const want = ref.hiddenStates[i]!;
    assert.equal(got.length, ref.frames * ref.hiddenSize, `hidden_states.${i} size`);
    let scale = 0;
    let diff = 0;
    for (let k = 0; k < want.length; k++) {
      scale = Math.max(scale, Math.abs(want[k]!));
      diff = Math.max(diff, Math.abs(got[k]! - want[k]!));
    }
    const rel = diff / scale;
    worst = Math.max(worst, rel);
    report.push(`hidden_states.${i} max|diff| ${diff.toExponential(2)} (rel ${rel.toExponential(2)})`);
  }
  console.log(`  wav2vec2 graph vs ${ref.source}:\n    ${report.join('\n    ')}`);
  assert.ok(worst < 1e-5, `max relative error ${worst.toExponential(2)} against the official states`);
});
