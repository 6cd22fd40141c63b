import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatentMask, mean, rasterizePolygon } from './masks.js';

const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

test('polygon rasterisation covers its area', () => {
  const sq = rasterizePolygon([{ x: 2, y: 2 }, { x: 10, y: 2 }, { x: 10, y: 6 }, { x: 2, y: 6 }], 16);
  assert.equal(sum(sq), 32);
  assert.equal(sq[2 * 16 + 2], 1);
  assert.equal(sq[6 * 16 + 2], 0);
});

test('latent masks: area average over a cell, maximum over the video frames of a latent frame', () => {
  const m = new LatentMask(8, 4, 4, 3); // 2×2 cells, 3 latent frames (video frames 0 | 1–4 | 5–8)
  const px = (cells: number[][]): Float32Array => {
    const a = new Float32Array(64);
    for (const [x, y] of cells) a[y! * 8 + x!] = 1;
    return a;
  };
  m.add(0, px([[0, 0], [1, 0], [0, 1], [1, 1]])); // 4 of 16 pixels of cell (0,0)
  m.add(1, px([[7, 7]]));
  m.add(3, px([[6, 6], [7, 7], [6, 7], [7, 6], [5, 5], [4, 4], [5, 4], [4, 5]])); // 8/16 of cell (1,1)
  m.add(4, px([]));
  assert.deepEqual([...m.data.subarray(0, 4)], [0.25, 0, 0, 0]);
  assert.deepEqual([...m.data.subarray(4, 8)], [0, 0, 0, 0.5]);
  assert.deepEqual([...m.data.subarray(8, 12)], [0, 0, 0, 0]);
  assert.equal(m.latentFrameOf(4), 1);
  assert.equal(m.latentFrameOf(5), 2);
  assert.equal(mean(new Float32Array([1, 0, 0, 1])), 0.5);
});
