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

test('boxForKey: arrows move by 2% of the box (Shift ×5), +/- resize about the centre, inside the image', async () => {
  const { boxForKey, sliderStep } = await import('./face-box.js');
  const b = { x: 100, y: 100, size: 200 };
  assert.deepEqual(boxForKey('ArrowRight', false, b, 1000, 800), { x: 104, y: 100, size: 200 });
  assert.deepEqual(boxForKey('ArrowUp', true, b, 1000, 800), { x: 100, y: 80, size: 200 });
  assert.deepEqual(boxForKey('+', false, b, 1000, 800), { x: 96, y: 96, size: 208 });
  assert.deepEqual(boxForKey('-', false, b, 1000, 800), { x: 104, y: 104, size: 192 });
  assert.deepEqual(boxForKey('ArrowLeft', true, { x: 5, y: 0, size: 100 }, 1000, 800), { x: 0, y: 0, size: 100 });
  assert.equal(boxForKey('a', false, b, 1000, 800), null);
  assert.equal(sliderStep(1000, 800), 8);
  assert.equal(sliderStep(50, 60), 1);
});
