import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvalRow } from './held-out-eval.js';
import { formatDifference, pairedDifference } from './paired.js';

const row = (clip: string, r: number | null, ok = true): EvalRow => ({ clip, video: `${clip}.mp4`, result: { ok, truth: r === null ? {} : { mouth: { combined: r } } } });
const mouth = (x: Record<string, any>): unknown => x.truth?.mouth?.combined; // eslint-disable-line @typescript-eslint/no-explicit-any

test('pairs clips by name and skips clips either side could not measure', () => {
  const a = [row('c1', 0.9), row('c2', 0.8), row('c3', 0.7), row('c4', 0.6), row('c5', 0.5, false)];
  const b = [row('c4', 0.5), row('c3', 0.6), row('c2', 0.7), row('c1', 0.8), row('c5', 0.1), row('c6', 0.2)];
  const p = pairedDifference(a, b, mouth);
  assert.equal(p.clips, 4);
  assert.equal(p.wins, 4);
  // Every pair differs by exactly 0.1, so every resample does too.
  assert.equal(p.mean, 0.1);
  assert.equal(p.lo, 0.1);
  assert.equal(p.hi, 0.1);
});

test('the interval spans the mean, is seeded, and includes 0 for a difference that flips sign', () => {
  const a = ['a', 'b', 'c', 'd', 'e', 'f'].map((c, i) => row(c, i % 2 ? 0.9 : 0.5));
  const b = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => row(c, 0.7));
  const p = pairedDifference(a, b, mouth);
  assert.equal(p.mean, 0);
  assert.ok(p.lo! < 0 && p.hi! > 0, formatDifference(p));
  assert.deepEqual(pairedDifference(a, b, mouth), p);
  assert.equal(p.wins, 3);
});

test('fewer than 3 common clips give no difference rather than a number from one or two clips', () => {
  const p = pairedDifference([row('a', 0.9), row('b', 0.8)], [row('a', 0.1), row('b', 0.2), row('c', 0.3)], mouth);
  assert.deepEqual(p, { clips: 2, mean: null, lo: null, hi: null, wins: 2 });
  assert.equal(formatDifference(p), '–');
  assert.equal(formatDifference({ clips: 5, mean: 0.071, lo: -0.03, hi: 0.216, wins: 3 }), '+0.071 [−0.030, +0.216]');
});
