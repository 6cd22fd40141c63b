import assert from 'node:assert/strict';
import test from 'node:test';
import type { TrainData } from './data.js';
import { noisyPair, pickWindow } from './data.js';
import { stepRandom } from './regions.js';
import { SFT_DEFAULTS, SettingsError, validateSft } from './settings.js';

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

