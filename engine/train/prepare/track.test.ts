import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaceSample } from './track.js';
import { faceTrack, interpolate, movingAverage, runningMedian } from './track.js';

const base = { width: 640, height: 480, detectEvery: 3 };

test('running median drops a single wrong detection; moving average keeps a constant', () => {
  assert.deepEqual(runningMedian([100, 101, 400, 102, 103], 5), [101, 101.5, 102, 102.5, 103]);
  assert.deepEqual(movingAverage([5, 5, 5, 5], 3), [5, 5, 5, 5]);
  assert.deepEqual(interpolate([0, 4], [0, 8], 6), [0, 2, 4, 6, 8, 8]);
  assert.deepEqual(interpolate([2], [7], 4), [7, 7, 7, 7]);
});

test('a nearly static face gets one fixed crop; a jumpy detection does not move it', () => {
  const samples: FaceSample[] = [];
  for (let f = 0; f < 60; f += 3) samples.push({ frame: f, face: { cx: 320 + (f % 2), cy: 240, side: 100 } });
  samples[5] = { frame: 15, face: { cx: 500, cy: 100, side: 100 } }; // one outlier
  samples[8] = { frame: 24, face: null }; // one miss
  const t = faceTrack(samples, { ...base, frames: 60 })!;
  assert.equal(t.summary.mode, 'fixed');
  assert.equal(t.summary.cropSize, 180);
  assert.equal(t.summary.found, 19);
  assert.ok(t.boxes.every((b) => b.x === t.boxes[0]!.x && b.y === t.boxes[0]!.y && b.size === 180));
  assert.ok(Math.abs(t.boxes[0]!.x + 90 - 320) <= 1 && Math.abs(t.boxes[0]!.y + 90 - 240) <= 1);
});

test('a moving head is tracked smoothly and the crop stays inside the frame', () => {
  const samples: FaceSample[] = [];
  for (let f = 0; f < 90; f += 3) samples.push({ frame: f, face: { cx: 100 + f * 5, cy: 240, side: 120 } });
  const t = faceTrack(samples, { ...base, frames: 90 })!;
  assert.equal(t.summary.mode, 'tracked');
  assert.ok(t.summary.motion > 0.5);
  for (const b of t.boxes) assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.size <= 640 && b.y + b.size <= 480);
  // Monotone motion stays monotone after smoothing, without jumps larger than the true speed.
  for (let f = 1; f < 90; f++) {
    const d = t.boxes[f]!.x - t.boxes[f - 1]!.x;
    assert.ok(d >= 0 && d <= 6, `frame ${f}: step ${d}`);
  }
  assert.equal(faceTrack([{ frame: 0, face: null }], { ...base, frames: 10 }), null);
});
