import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { seededValues } from '../../exec/gradcheck.js';
import { MapWeightProvider } from '../weight-provider.js';
import { REFREE_5B, REFREE_TINY, refreeConfigFor } from './config.js';
import { InputWeightProvider } from '../weight-provider.js';
import { makeInjector } from './injector.js';
import type { ReFreeConfig } from './config.js';
import { TINY } from '../config.js';
import { refreeInitWeights, refreeWeights } from './params.js';
import { buildSpeechEncoderGraph, speechEncoder } from './speech-encoder.js';
import { levelWeights, selectLevels } from './selector.js';
import { runOnce } from '../../exec/run-once.js';

const run = (g: Graph, feeds: Record<string, Float32Array>) => runOnce(g, feeds) as Promise<Record<string, Float32Array>>;

test('speech encoder: [B, Tv, speechDim] → per-level latent-frame summaries [B, L, Tlat, D]', async () => {
  const c = REFREE_TINY;
  const mp = new MapWeightProvider(refreeInitWeights(c, 7));
  const g = buildSpeechEncoderGraph(c, mp, { batch: 2, videoFrames: 9 });
  assert.deepEqual(g.outputs[0]!.shape, [2, 3, 3, 16]);
  // Everything but the null speech, which only the masked DiT graph reads (model.ts maskSpeech).
  assert.deepEqual(mp.unconsumed().filter((n) => n.includes('speech_encoder')), ['refree.speech_encoder.null_speech']);
  const out = (await run(g, { speech_features: Float32Array.from(seededValues(2 * 9 * 12, 3)) })).speech!;
  assert.ok(out.every(Number.isFinite));
  // The output LayerNorm (weight 1, small bias) gives each summary ~unit spread.
  let s2 = 0;
  for (const v of out) s2 += v * v;
  assert.ok(Math.sqrt(s2 / out.length) > 0.5 && Math.sqrt(s2 / out.length) < 1.5);
  const xc = buildSpeechEncoderGraph({ ...c, mode: 'cross-attention' }, new MapWeightProvider(refreeInitWeights({ ...c, mode: 'cross-attention' }, 7)), { batch: 1, videoFrames: 9 });
  assert.deepEqual(xc.outputs[0]!.shape, [1, 3, 3, 16, 16]); // [B, L, Tlat, W = 4·(2+1+1), D]
  const bad = new Graph();
  assert.throws(() => speechEncoder(c, refreeWeights(bad, c, mp), bad.input('f', 'float32', [1, 8, 12])), (e: unknown) => e instanceof ShapeError && /4·n \+ 1.*\[1,8,12\]/.test(e.message));
});

test('each latent frame sees its window (incl. the future latent frame) and each level its kernel, nothing more', async () => {
  // Kernels 1 and 3 so the reach is exact: latent frame 2 (video 5..8) has window video −3..12
  // (past 2, future 1); level 1's kernel adds ±1 frame.
  const c: ReFreeConfig = refreeConfigFor(TINY.dit, { speechDim: 4, hidden: 8, kernelSizes: [1, 3] });
  const Tv = 21;
  const g = buildSpeechEncoderGraph(c, new MapWeightProvider(refreeInitWeights(c, 11)), { batch: 1, videoFrames: Tv });
  const cg = await CompiledGraph.fromGraph(g);
  const base = Float32Array.from(seededValues(Tv * 4, 5));
  const at = async (frame: number | null): Promise<Float32Array> => {
    const f = Float32Array.from(base);
    if (frame !== null) for (let k = 0; k < 4; k++) f[frame * 4 + k]! += 0.5;
    return (await cg.run({ speech_features: f })).speech as Float32Array;
  };
  // Change of summary (level l, latent frame i) when video frame `frame` changes.
  const ref = await at(null);
  const moved = async (frame: number): Promise<number[][]> => {
    const o = await at(frame);
    return [0, 1].map((l) => Array.from({ length: 6 }, (_, i) => {
      let d = 0;
      for (let k = 0; k < 8; k++) d = Math.max(d, Math.abs(o[((l * 6 + i) * 8) + k]! - ref[((l * 6 + i) * 8) + k]!));
      return d;
    }));
  };
  const MOVES = 1e-3;
  const STILL = 1e-6;
  const f12 = await moved(12); // latent frame 3's last video frame = frame 2's future
  assert.ok(f12[0]![2]! > MOVES && f12[1]![2]! > MOVES, 'latent frame 2 anticipates video frame 12');
  const f13 = await moved(13); // latent frame 4: outside frame 2's window; level 1 (K=3) reaches it from 12
  assert.ok(f13[0]![2]! < STILL, `level 0 (K=1) of frame 2 must not see video frame 13 (${f13[0]![2]})`);
  assert.ok(f13[1]![2]! > MOVES, 'level 1 (K=3) of frame 2 sees video frame 13 through its kernel');
  const f14 = await moved(14);
  assert.ok(f14[0]![2]! < STILL && f14[1]![2]! < STILL, 'video frame 14 is beyond frame 2 at every level');
  assert.ok(f14[0]![3]! > MOVES, 'video frame 14 is in frame 3\'s own range');
  // Latent frame 5 (video 17..20) has window 9..24: video frame 8 reaches it only through level 1.
  const f8 = await moved(8);
  assert.ok(f8[0]![5]! < STILL && f8[1]![5]! > MOVES);
  await cg.release();
});

test('level selector: softmax weights sum to 1 and mix the levels by those weights', async () => {
  const g = new Graph();
  const logits = g.input('logits', 'float32', [3]);
  const levels = g.input('levels', 'float32', [2, 3, 4, 5]);
  g.output(levelWeights(logits), 'w');
  g.output(selectLevels(levels, logits), 'mixed');
  assert.deepEqual(g.outputs[1]!.shape, [2, 4, 5]);
  const lv = Float32Array.from(seededValues(120, 9));
  for (const lg of [[0, 0, 0], [2.5, -1, 0.3], [40, -40, 3]]) {
    const r = await run(g, { logits: Float32Array.from(lg), levels: lv });
    const w = Array.from(r.w!);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6, `weights ${w} sum to 1`);
    assert.ok(w.every((v) => v >= 0));
    for (let b = 0; b < 2; b++) for (let j = 0; j < 20; j++) {
      const want = w.reduce((s, wl, l) => s + wl * lv[(b * 3 + l) * 20 + j]!, 0);
      assert.ok(Math.abs(r.mixed![b * 20 + j]! - want) < 1e-5);
    }
  }
  const z = await run(g, { logits: new Float32Array(3), levels: lv });
  assert.deepEqual(Array.from(z.w!).map((v) => v.toFixed(6)), ['0.333333', '0.333333', '0.333333']);
});

test('the 5B preset builds at real sizes (81 video frames → 21 latent frames, 480×480 → 15·15 = 225 tokens per frame)', () => {
  const g = new Graph();
  const ip = new InputWeightProvider();
  const enc = speechEncoder(REFREE_5B, refreeWeights(g, REFREE_5B, ip), g.input('speech_features', 'float32', [1, 81, 2304]));
  assert.deepEqual(enc.levels.shape, [1, 4, 21, 512]);
  const x = g.input('x', 'float16', [1, 21 * 225, 3072]);
  const y = makeInjector(REFREE_5B, ip)(28, x, { frames: 21, tokensPerFrame: 225, speech: enc.speech });
  assert.deepEqual(y.shape, [1, 21 * 225, 3072]);
  assert.equal(y.dtype, 'float16');
  assert.deepEqual(ip.requested.get('refree.blocks.28.film.weight'), [6144, 512]);
  assert.deepEqual(ip.requested.get('refree.speech_encoder.levels.3.conv.weight'), [512, 512, 45]);
});
