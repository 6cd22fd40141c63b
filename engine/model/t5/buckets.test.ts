import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relativePositionBucket, relativePositionBuckets } from './buckets.js';

// Hand-computed from the formula with 32 buckets and max distance 128 (Wan / umT5): 16 buckets per
// direction, 8 exact (|d| < 8), then 8 + floor(8·log(|d|/8)/log(16)) = 8 + floor(2·log2(|d|/8)),
// capped at 15; keys after the query (d = key − query > 0) add 16.
//   |d|:     0  1  7  8  11 12 15 16 22 23 31 32 45 46 63 64 90 91 127 128 500
//   bucket:  0  1  7  8  8  9  9  10 10 11 11 12 12 13 13 14 14 15 15  15  15
const WAN_TABLE: readonly [number, number][] = [
  [0, 0], [1, 1], [7, 7], [8, 8], [11, 8], [12, 9], [15, 9], [16, 10], [22, 10], [23, 11], [31, 11], [32, 12],
  [45, 12], [46, 13], [63, 13], [64, 14], [90, 14], [91, 15], [127, 15], [128, 15], [500, 15],
];

test('32 buckets, max distance 128: both directions and beyond max_distance', () => {
  for (const [d, b] of WAN_TABLE) {
    assert.equal(relativePositionBucket(-d, 32, 128), b, `key ${d} before the query`);
    if (d > 0) assert.equal(relativePositionBucket(d, 32, 128), 16 + b, `key ${d} after the query`);
  }
  assert.equal(relativePositionBucket(0, 32, 128), 0, 'the diagonal is in the lower half');
  assert.equal(relativePositionBucket(100000, 32, 128), 31);
  assert.equal(relativePositionBucket(-100000, 32, 128), 15);
});

test('tiny config (8 buckets): 2 exact, then one bucket for 2–15 and one for ≥16', () => {
  const expect = (d: number): number => (d < 2 ? d : d < 16 ? 2 : 3);
  for (const d of [0, 1, 2, 3, 15, 16, 17, 127, 128, 1000]) {
    assert.equal(relativePositionBucket(-d, 8, 128), expect(d), `-${d}`);
    if (d > 0) assert.equal(relativePositionBucket(d, 8, 128), 4 + expect(d), `+${d}`);
  }
});

test('float32 emulation agrees with the plain float64 formula for every distance up to 4096', () => {
  for (const nb of [8, 32]) {
    const half = nb / 2;
    const exact = half / 2;
    for (let d = exact; d <= 4096; d++) {
      const f64 = Math.min(half - 1, exact + Math.floor((Math.log(d / exact) / Math.log(128 / exact)) * (half - exact)));
      assert.equal(relativePositionBucket(-d, nb, 128), f64, `nb ${nb}, d ${d}`);
    }
  }
});

test('table[i, j] = bucket(j − i), row-major, for the bucket length', () => {
  const L = 40;
  const t = relativePositionBuckets(L, 32, 128);
  assert.equal(t.length, L * L);
  assert.equal(t[0], 0); // (0, 0)
  assert.equal(t[0 * L + 1], 17); // key one after the query
  assert.equal(t[1 * L + 0], 1); // key one before
  assert.equal(t[0 * L + 39], 16 + 12); // d = +39: 8 + floor(2·log2(39/8) = 4.57)
  assert.equal(t[39 * L + 0], 12); // d = −39
  for (let i = 0; i < L; i++) assert.equal(t[i * L + i], 0);
});

test('unidirectional form and argument checks', () => {
  // Decoder-style: only keys at or before the query get distinct buckets; 16 exact of 32.
  assert.equal(relativePositionBucket(5, 32, 128, false), 0);
  assert.equal(relativePositionBucket(-5, 32, 128, false), 5);
  assert.equal(relativePositionBucket(-200, 32, 128, false), 31);
  assert.throws(() => relativePositionBucket(1.5, 32), RangeError);
  assert.throws(() => relativePositionBucket(1, 2), RangeError);
});
