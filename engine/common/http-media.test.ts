// The shared Range parser and content types (both hosts use these; see http-media.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentRange, contentType, parseRange } from './http-media.js';

test('parseRange: open, closed and suffix ranges', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'range', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=500-', 1000), { kind: 'range', start: 500, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'range', start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=900-5000', 1000), { kind: 'range', start: 900, end: 999 });
  assert.deepEqual(parseRange(' Bytes = 1-2', 10), { kind: 'range', start: 1, end: 2 });
  assert.equal(contentRange({ start: 900, end: 999 }, 1000), 'bytes 900-999/1000');
});

test('parseRange: no header, another unit and valid multi-range answer the whole file; garbage and past-the-end are unsatisfiable', () => {
  for (const h of [null, undefined, '', 'items=0-1', 'bytes=0-1,4-5']) assert.deepEqual(parseRange(h, 10), { kind: 'full' }, String(h));
  for (const h of ['bytes=10-', 'bytes=5-2', 'bytes=-0', 'bytes=abc', 'bytes=-', 'bytes=0-1,x', 'bytes=1-2-3']) assert.deepEqual(parseRange(h, 10), { kind: 'bad' }, h);
  assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'bad' });
});

test('contentType: one table for media and the renderer', () => {
  assert.equal(contentType('/a/b/clip.MP4'), 'video/mp4');
  assert.equal(contentType('x.wav'), 'audio/wav');
  assert.equal(contentType('index.html'), 'text/html; charset=utf-8');
  assert.equal(contentType('noext'), 'application/octet-stream');
});
