import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignToVideo, subStepTimes, videoFrameCount } from './align.js';
import type { FeatureSeries } from './align.js';
import { DEFAULT_MEL_FRONT_END, frontEndWidth, melFeatures } from './front-end.js';

/** A series whose channel 0 is its frame time and channel 1 a constant, at `rate` Hz. */
function ramp(seconds: number, rate: number, offset: number): FeatureSeries {
  const frames = Math.floor(seconds * rate) + 1;
  const data = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    data[2 * i] = offset + i / rate;
    data[2 * i + 1] = 3;
  }
  return { data, frames, channels: 2, rate, offset };
}

test('Tvideo = round(duration·fps)', () => {
  assert.equal(videoFrameCount(2, 15), 30);
  assert.equal(videoFrameCount(1.37, 15), 21); // 20.55
  assert.equal(videoFrameCount(1.3, 15), 20); // 19.5 rounds up
  assert.equal(videoFrameCount(0.01, 15), 0);
  // Log-mel of a 1.37 s clip aligned at 15 fps gives 21 rows of nMels·context.
  const audio = Float32Array.from({ length: Math.round(1.37 * 16000) }, (_, i) => Math.sin(i / 7));
  const Tv = videoFrameCount(audio.length / 16000, 15);
  const rows = melFeatures(audio, DEFAULT_MEL_FRONT_END, 15, Tv);
  assert.equal(frontEndWidth(DEFAULT_MEL_FRONT_END), 320);
  assert.equal(rows.length, 21 * 320);
  // Row k's first sub-step averages the mel frames around (k − 3/8)/15 s (here: a steady tone, so all rows agree).
  assert.ok(Math.abs(rows[10 * 320 + 40]! - rows[12 * 320 + 40]!) < 1e-3);
});

test('rows sample the series at the video frame times; context splits each frame into sub-steps', () => {
  const s = ramp(3, 100, 0);
  const fps = 15;
  for (const resample of ['area', 'linear'] as const) {
    const rows = alignToVideo(s, { fps, videoFrames: 40, context: 1, resample });
    // Area treats each 10 ms frame as constant over its span, so it is exact only to a fraction of a frame.
    const tol = resample === 'area' ? 0.1 / s.rate : 1e-5;
    for (let k = 1; k < 40; k++) {
      assert.ok(Math.abs(rows[2 * k]! - k / fps) < tol, `${resample}: frame ${k} at ${rows[2 * k]} s, want ${k / fps}`);
      assert.ok(Math.abs(rows[2 * k + 1]! - 3) < 1e-6);
    }
  }
  // Context 4: row k = [t(k,0), c, t(k,1), c, ...] with t(k,j) = (k − ½ + (j+½)/4)/fps.
  const rows = alignToVideo(s, { fps, videoFrames: 40, context: 4 });
  const t = subStepTimes(fps, 40, 4);
  for (let k = 2; k < 40; k++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(rows[(k * 4 + j) * 2]! - t[k * 4 + j]!) < 0.1 / s.rate);
  assert.ok(Math.abs(t[4 * 10 + 3]! - (10 + 3 / 8) / fps) < 1e-12);
});

test('area resampling averages every frame in the interval; linear interpolates; edges clamp', () => {
  // An alternating ±1 series at 50 Hz: area over a 15 fps frame (3.33 frames) stays near 0, while a
  // point sample lands on ±1 or between.
  const frames = 200;
  const data = Float32Array.from({ length: frames }, (_, i) => (i % 2 ? 1 : -1));
  const s: FeatureSeries = { data, frames, channels: 1, rate: 50, offset: 0.0125 };
  const area = alignToVideo(s, { fps: 15, videoFrames: 50, resample: 'area' });
  for (let k = 1; k < 50; k++) assert.ok(Math.abs(area[k]!) <= 0.3 + 1e-6, `area row ${k} = ${area[k]}`);
  const lin = alignToVideo(s, { fps: 15, videoFrames: 50, resample: 'linear' });
  assert.ok(lin.some((v) => Math.abs(v) > 0.5));
  // After the end of the series, rows take the last frame.
  const end = alignToVideo(ramp(1, 100, 0), { fps: 15, videoFrames: 30, resample: 'linear' });
  assert.ok(Math.abs(end[2 * 29]! - 1) < 1e-6);
});
