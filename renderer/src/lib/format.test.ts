import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateEta, formatBytes, formatClock, formatEta, percent } from './format.js';

test('formatClock shows minutes, seconds and tenths', () => {
  assert.equal(formatClock(0), '0:00.0');
  assert.equal(formatClock(83.54), '1:23.5');
  assert.equal(formatClock(-1), '0:00.0');
  assert.equal(formatClock(59.96), '1:00.0');
});

test('formatEta picks a unit people read at a glance', () => {
  assert.equal(formatEta(null), null);
  assert.equal(formatEta(0.2), 'about 1 s');
  assert.equal(formatEta(42), 'about 42 s');
  assert.equal(formatEta(180), 'about 3 min');
  assert.equal(formatEta(3900), 'about 1 h 5 min');
});

test('estimateEta extrapolates linearly and refuses to guess without progress', () => {
  assert.equal(estimateEta(0, 10, 5000), null);
  assert.equal(estimateEta(5, 10, 5000), 5);
  assert.equal(estimateEta(11, 10, 5000), null);
});

test('formatBytes and percent', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(24 * 1024 ** 3), '24 GB');
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(5, 0), 0);
  assert.equal(percent(7, 5), 100);
});
