import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFREE_5B, REFREE_TINY, ReFreeConfigError, refreeConfigFor, validateReFreeConfig } from './config.js';
import { latentFramesFor, videoFramesFor, videoRangeOfLatent, windowIndices, windowLength } from './frames.js';
import { countParams } from '../inventory/types.js';
import { refreeParams, speechEncoderParams } from './params.js';
import { TINY } from '../config.js';

test('latent frame 0 is video frame 0; latent frame i is video frames 4(i−1)+1..4i', () => {
  assert.deepEqual(videoRangeOfLatent(0, 4), [0, 0]);
  assert.deepEqual(videoRangeOfLatent(1, 4), [1, 4]);
  assert.deepEqual(videoRangeOfLatent(5, 4), [17, 20]);
  assert.equal(latentFramesFor(81, 4), 21);
  assert.equal(videoFramesFor(21, 4), 81);
  assert.throws(() => latentFramesFor(80, 4), /4·n \+ 1/);
});

test('the speech window covers latent frames i−past..i+future, including the future frames', () => {
  const w = { past: 2, future: 1 };
  assert.equal(windowLength(w, 4), 16);
  const idx = windowIndices(6, w, 4);
  // Latent frame 3 = video 9..12; past 2 → 1..8; future 1 → 13..16 (latent frame 4's frames).
  assert.deepEqual(idx[3], Array.from({ length: 16 }, (_, j) => 1 + j));
  for (let f = 13; f <= 16; f++) assert.ok(idx[3]!.includes(f), `future video frame ${f} in window`);
  assert.ok(!idx[3]!.includes(17) && !idx[3]!.includes(0));
  // Latent frame 0 (video 0): same length, ends 4 frames after video frame 0; the rest is before the clip.
  assert.deepEqual(idx[0], Array.from({ length: 16 }, (_, j) => -11 + j));
  // A config with 2 future latent frames reaches 8 video frames past the frame's last one.
  const far = windowIndices(6, { past: 0, future: 2 }, 4);
  assert.deepEqual(far[2], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
});

test('presets are valid and sized as documented; bad configs are refused with the reason', () => {
  assert.equal(REFREE_5B.dim, 3072);
  assert.equal(REFREE_5B.filmHeads, 24);
  assert.deepEqual(REFREE_5B.injectBlocks, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
  assert.deepEqual(REFREE_TINY.injectBlocks, [0, 1]);
  const enc = countParams(speechEncoderParams(REFREE_5B));
  const all = countParams(refreeParams(REFREE_5B));
  // in_proj 1.18M + convs 20.45M + MLP 2.1M + pool 4.19M ≈ 27.9M; FiLM 15 × 3.15M ≈ 47.2M.
  assert.ok(enc > 27.5e6 && enc < 28.5e6, `encoder ${enc}`);
  assert.ok(all - enc > 47e6 && all - enc < 47.3e6, `injection ${all - enc}`);
  const bad = (o: object, re: RegExp): void => assert.throws(() => validateReFreeConfig({ ...REFREE_TINY, ...o }), (e: unknown) => e instanceof ReFreeConfigError && re.test(e.message));
  bad({ kernelSizes: [3, 3, 7] }, /must grow/);
  bad({ kernelSizes: [1, 4, 7] }, /odd/);
  bad({ injectBlocks: [0, 2] }, /outside the DiT's blocks 0\.\.1/);
  bad({ levels: 2 }, /2 levels but 3 kernel sizes/);
  bad({ window: { past: -1, future: 1 } }, /window\.past/);
  assert.deepEqual(refreeConfigFor({ ...TINY.dit, layers: 12 }, { speechDim: 4, hidden: 8, kernelSizes: [1, 3] }).injectBlocks, [0, 2, 4, 6, 8, 10]);
});
