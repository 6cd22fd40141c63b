import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampTrim, MIN_TRIM_SECONDS, setIn, setOut } from './trim.js';

test('clampTrim keeps the region inside the clip, ordered and at least the minimum length', () => {
  assert.deepEqual(clampTrim({ start: -1, end: 20 }, 10), { start: 0, end: 10 });
  assert.deepEqual(clampTrim({ start: 6, end: 2 }, 10), { start: 2, end: 6 });
  const tiny = clampTrim({ start: 9.95, end: 9.96 }, 10);
  assert.ok(Math.abs(tiny.end - tiny.start - MIN_TRIM_SECONDS) < 1e-9);
  assert.equal(tiny.end, 10);
});

test('I and O move one edge and repair the other when they cross', () => {
  const t = { start: 2, end: 6 };
  assert.deepEqual(setIn(t, 3, 10), { start: 3, end: 6 });
  assert.deepEqual(setIn(t, 8, 10), { start: 8, end: 10 });
  assert.deepEqual(setOut(t, 5, 10), { start: 2, end: 5 });
  assert.deepEqual(setOut(t, 1, 10), { start: 0, end: 1 });
});
