import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentRange, parseRange } from './range.js';

test('parseRange: open, closed and suffix ranges', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=500-', 1000), { kind: 'partial', start: 500, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=900-5000', 1000), { kind: 'partial', start: 900, end: 999 });
  assert.equal(contentRange({ start: 900, end: 999 }, 1000), 'bytes 900-999/1000');
});

test('parseRange: no header, garbage and multi-range answer the whole file; past the end is 416', () => {
  assert.deepEqual(parseRange(null, 10), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-1,4-5', 10), { kind: 'full' });
  assert.deepEqual(parseRange('items=0-1', 10), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=5-2', 10), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 10), { kind: 'unsatisfiable' });
});
