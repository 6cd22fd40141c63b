import assert from 'node:assert/strict';
import test from 'node:test';
import type { TrainData } from './data.js';
import { noisyPair, pickWindow, sftBatch } from './data.js';
import { stepRandom } from './regions.js';
import { PAPER_REGION_WEIGHTS } from './regions.js';
import { ANCHORED_MODEL_SHARE, SFT_DEFAULTS, SettingsError, validateSft } from './settings.js';
import type { TrainBase } from './base-model.js';
import { sftSettings } from './sft.js';
import { BUILTIN_DEFAULTS } from '../pipeline/defaults.js';

// pickWindow reads only the clips' latent shapes: 30 latent frames = a 4-second clip at 15 fps.
const data = { clips: Array.from({ length: 5 }, () => ({ latentShape: [16, 30, 16, 16] })) } as unknown as TrainData;
const FRAMES = 9;
const STARTS = 30 - FRAMES + 1;

function starts(share: number, n: number): number[] {
  const rnd = stepRandom(7, 0, 'data-test');
  return Array.from({ length: n }, () => pickWindow(data, FRAMES, rnd, share).start);
}

test('without a portrait share, windows are the uniform draw of two numbers each, as before the option', () => {
  const rnd = stepRandom(7, 0, 'data-test');
  const expected = Array.from({ length: 50 }, () => {
    const clip = Math.floor(rnd() * data.clips.length);
    return { clip, start: Math.floor(rnd() * STARTS) };
  });
  const again = stepRandom(7, 0, 'data-test');
  assert.deepEqual(Array.from({ length: 50 }, () => pickWindow(data, FRAMES, again)), expected);
});

test('a portrait share makes that share of windows (plus the uniform ones that land there) start at frame 0', () => {
  const n = 6000;
  const uniform = starts(0, n).filter((s) => s === 0).length / n;
  const forced = starts(0.3, n).filter((s) => s === 0).length / n;
  assert.ok(Math.abs(uniform - 1 / STARTS) < 0.015, `uniform share at frame 0: ${uniform}`);
  assert.ok(Math.abs(forced - (0.3 + 0.7 / STARTS)) < 0.025, `share at frame 0 with 0.3: ${forced}`);
  assert.ok(starts(1, 200).every((s) => s === 0));
  // The other windows still cover every start.
  assert.equal(new Set(starts(0.3, n)).size, STARTS);
});

test('a portrait share outside [0, 1] is refused', () => {
  assert.throws(() => validateSft({ ...SFT_DEFAULTS, shift: 3, portraitStart: 1.5 }), (e: unknown) => e instanceof SettingsError && /starting at the portrait must lie in \[0, 1\]/.test(e.message));
});

test('the reference frame stays clean, or takes its own noise scaled by refNoise; later frames are noised as before', () => {
  const [C, F, hw] = [2, 3, 4];
  const n = C * F * hw;
  const x0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const eps = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i));
  const run = (refNoise?: number): { xt: Float32Array; target: Float32Array } => {
    const xt = new Float32Array(n);
    const target = new Float32Array(n);
    noisyPair(x0, eps, 0.4, C, F, hw, xt, target, refNoise);
    return { xt, target };
  };
  const clean = run();
  const noisy = run(0.5);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) {
      for (let p = 0; p < hw; p++) {
        const i = (c * F + f) * hw + p;
        assert.ok(Math.abs(clean.target[i]! - (eps[i]! - x0[i]!)) < 1e-6);
        assert.equal(noisy.target[i], clean.target[i]);
        if (f === 0) {
          assert.equal(clean.xt[i], x0[i]);
          assert.ok(Math.abs(noisy.xt[i]! - (x0[i]! + 0.5 * eps[i]!)) < 1e-6);
        } else {
          assert.ok(Math.abs(clean.xt[i]! - (0.6 * x0[i]! + 0.4 * eps[i]!)) < 1e-6);
          assert.equal(noisy.xt[i], clean.xt[i]);
        }
      }
    }
  }
});


// A small dataset whose every latent value names its clip, channel and frame, so a window's frames can
// be traced back to where they came from.
function tracedData(): TrainData {
  const [C, Fc, h, w, D, stride] = [2, 12, 2, 2, 3, 2];
  const hw = h * w;
  const frames = stride * (Fc - 1) + 1;
  const clips = Array.from({ length: 3 }, (_, k) => ({
    id: `c${k}`,
    latents: Float32Array.from({ length: C * Fc * hw }, (_, i) => 1000 * k + 100 * Math.floor(i / (Fc * hw)) + Math.floor(i / hw) % Fc),
    latentShape: [C, Fc, h, w] as [number, number, number, number],
    speech: Float32Array.from({ length: frames * D }, (_, i) => i),
    speechDim: D,
    lipMask: new Float32Array(Fc * hw).fill(1),
    faceMask: new Float32Array(Fc * hw).fill(1),
    frames,
    info: {},
  }));
  return { clips, channels: C, h, w, stride, speechDim: D } as unknown as TrainData;
}

test('anchored windows take the portrait latent as frame 0 and the next frame of the window as a second clean reference', () => {
  const d = tracedData();
  const [C, F, hw] = [2, 5, 4];
  const settings = { seed: 3, batch: 6, frames: F, shift: 3, regions: PAPER_REGION_WEIGHTS, speechDrop: 0, portraitStart: 0, motionNoise: 0, maxU: 1 };
  const plain = sftBatch(d, new Float32Array(4), { ...settings, anchorShare: 0 }, 0, 0);
  const anchored = sftBatch(d, new Float32Array(4), { ...settings, anchorShare: 1 }, 0, 0);
  const n = C * F * hw;
  type Fed = Record<'latents' | 'timesteps' | 'weight' | 'speech_features', Float32Array>;
  const A = anchored.feeds as Fed;
  const P = plain.feeds as Fed;
  for (let b = 0; b < settings.batch; b++) {
    const { clip, start } = anchored.windows[b]!;
    const lat = A.latents.subarray(b * n, (b + 1) * n);
    for (let c = 0; c < C; c++) {
      // Frame 0: the clip's frame 0 (the portrait); frame 1: the window's own second frame, clean.
      assert.equal(lat[(c * F + 0) * hw], 1000 * clip + 100 * c + 0);
      assert.equal(lat[(c * F + 1) * hw], 1000 * clip + 100 * c + start + 1);
      // Later frames are noised: not their clean value.
      assert.notEqual(lat[(c * F + 2) * hw], 1000 * clip + 100 * c + start + 2);
    }
    assert.deepEqual([...A.timesteps.subarray(b * F, b * F + 2)], [0, 0]);
    assert.ok(A.timesteps[b * F + 2]! > 0);
    assert.ok(A.weight.subarray(b * F * hw, (b * F + 2) * hw).every((x) => x === 0), 'no loss on either reference');
    assert.ok(A.weight.subarray((b * F + 2) * hw, (b + 1) * F * hw).every((x) => x > 0));
    // The plain window keeps one reference: its own frame 0, and learns frame 1.
    const own = plain.windows[b]!;
    assert.equal(P.latents[b * n], 1000 * own.clip + own.start);
    assert.ok(P.timesteps[b * F + 1]! > 0);
  }
  // The speech rows are the window's own (item 0 draws the same window in both batches).
  assert.deepEqual(anchored.windows[0], plain.windows[0]);
  const rows = (d.stride * (F - 1) + 1) * d.speechDim;
  assert.deepEqual(A.speech_features.subarray(0, rows), P.speech_features.subarray(0, rows));
  assert.ok(anchored.windows.some((w) => w.start > 0), 'some windows start later in a clip');
});

test('a share of anchored windows outside [0, 1], or one with too short windows, is refused', () => {
  assert.throws(() => validateSft({ ...SFT_DEFAULTS, shift: 3, anchorShare: 2 }), (e: unknown) => e instanceof SettingsError && /portrait anchor must lie in \[0, 1\]/.test(e.message));
  assert.throws(() => validateSft({ ...SFT_DEFAULTS, shift: 3, anchorShare: 0.5, frames: 2 }), (e: unknown) => e instanceof SettingsError && /at least 3 latent frames/.test(e.message));
});

test('fine-tuning a model that samples with the portrait anchor keeps training anchored windows unless told otherwise', () => {
  const base = (portraitAnchor: boolean): TrainBase => ({ defaults: { ...BUILTIN_DEFAULTS, portraitAnchor } }) as unknown as TrainBase;
  assert.equal(sftSettings(base(true)).anchorShare, ANCHORED_MODEL_SHARE);
  assert.equal(sftSettings(base(false)).anchorShare, 0);
  assert.equal(sftSettings(base(true), { anchorShare: 0 }).anchorShare, 0);
  assert.equal(sftSettings(base(false), { anchorShare: 0.25 }).anchorShare, 0.25);
});

test("a clip's face factor multiplies its window's weights above rest, and changes nothing else the batch draws", () => {
  const d = tracedData();
  const [F, hw] = [5, 4];
  const settings = { seed: 3, batch: 6, frames: F, shift: 3, regions: PAPER_REGION_WEIGHTS, speechDrop: 0, portraitStart: 0, motionNoise: 0, maxU: 1, anchorShare: 0 };
  const plain = sftBatch(d, new Float32Array(4), settings, 0, 0);
  const boosted = sftBatch({ ...d, faceBoost: Float32Array.from([1, 3, 2]) }, new Float32Array(4), settings, 0, 0);
  assert.deepEqual(boosted.windows, plain.windows);
  assert.deepEqual(boosted.feeds.latents, plain.feeds.latents);
  const weight = boosted.feeds.weight as Float32Array;
  for (let b = 0; b < settings.batch; b++) {
    const factor = [1, 3, 2][boosted.windows[b]!.clip]!;
    // Every cell lies inside the lips here (masks all 1): weight lip = 100, raised to 1 + 99·factor.
    const w = weight.subarray(b * F * hw, (b + 1) * F * hw);
    assert.ok(w.subarray(0, hw).every((x) => x === 0), 'the reference frame still has no loss');
    assert.ok(w.subarray(hw).every((x) => x === 1 + 99 * factor), `item ${b} (clip ${boosted.windows[b]!.clip})`);
  }
  assert.ok(new Set(boosted.windows.map((x) => x.clip)).size > 1, 'the batch mixes clips');
});
