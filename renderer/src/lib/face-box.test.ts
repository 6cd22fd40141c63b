import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampBox, defaultBox, MIN_BOX, resizeBox } from './face-box.js';

test('clampBox keeps the square inside the image and at least MIN_BOX', () => {
  assert.deepEqual(clampBox({ x: -10, y: 500, size: 100 }, 400, 300), { x: 0, y: 200, size: 100 });
  assert.deepEqual(clampBox({ x: 0, y: 0, size: 5 }, 400, 300), { x: 0, y: 0, size: MIN_BOX });
  assert.deepEqual(clampBox({ x: 0, y: 0, size: 900 }, 400, 300), { x: 0, y: 0, size: 300 });
});

test('defaultBox is centred horizontally; resizeBox keeps the centre', () => {
  const b = defaultBox(1000, 500);
  assert.equal(b.size, 300);
  assert.equal(b.x, 350);
  const r = resizeBox({ x: 100, y: 100, size: 100 }, 50, 1000, 500);
  assert.deepEqual(r, { x: 125, y: 125, size: 50 });
});
