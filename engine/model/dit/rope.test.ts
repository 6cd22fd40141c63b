import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { applyRope, ropeAngles, ropeSplit } from './rope.js';

test('RoPE split: 44/42/42 for head dim 128, d − 4⌊d/6⌋ and 2⌊d/6⌋ in general', () => {
  assert.deepEqual(ropeSplit(128), { t: 44, h: 42, w: 42 });
  assert.deepEqual(ropeSplit(12), { t: 4, h: 4, w: 4 });
  assert.deepEqual(ropeSplit(64), { t: 24, h: 20, w: 20 });
  assert.deepEqual(ropeSplit(8), { t: 4, h: 2, w: 2 });
  assert.throws(() => ropeSplit(7), ShapeError);
});

test('RoPE angles for head dim 128: each run restarts its frequency index and follows its own axis', () => {
  const grid = { frames: 3, h: 4, w: 5 };
  const ang = ropeAngles(grid, 128);
  const tok = 2 * 20 + 3 * 5 + 4; // f = 2, y = 3, x = 4
  const a = (pair: number): number => ang[tok * 64 + pair]!;
  const close = (x: number, y: number): void => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(a(0), 2); // temporal pair 0: f·1
  close(a(1), 2 * Math.pow(10000, -2 / 44));
  close(a(21), 2 * Math.pow(10000, -42 / 44)); // last temporal pair
  close(a(22), 3); // first height pair: y·1
  close(a(42), 3 * Math.pow(10000, -40 / 42)); // last height pair
  close(a(43), 4); // first width pair: x·1
  close(a(63), 4 * Math.pow(10000, -40 / 42));
  // Token 0 (f = y = x = 0) is not rotated at all.
  assert.ok(ang.subarray(0, 64).every((v) => v === 0));
});

test('applyRope rotates ADJACENT pairs (x[2j], x[2j+1]) by hand-computed angles, per head', async () => {
  // Head dim 12: pairs 0-1 temporal (freqs 1, 10000^-1/2), 2-3 height, 4-5 width; 2 heads.
  const grid = { frames: 2, h: 2, w: 3 };
  const heads = 2;
  const dim = 24;
  const L = 12;
  const g = new Graph();
  const x = g.input('x', 'float64', [1, L, dim]);
  g.output(applyRope(x, grid, heads), 'y');
  const xs = Float64Array.from({ length: L * dim }, (_, i) => Math.sin(0.37 * i + 0.1));
  const c = await CompiledGraph.fromGraph(g);
  const y = (await c.run({ x: xs })).y as Float64Array;
  await c.release();
  const tok = 1 * 6 + 1 * 3 + 2; // f = 1, y = 1, x = 2
  const angles = [1, 0.01, 1, 0.01, 2, 0.02]; // 10000^(−2/4) = 0.01
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 6; j++) {
      const i = tok * dim + h * 12 + 2 * j;
      const [a, b, th] = [xs[i]!, xs[i + 1]!, angles[j]!];
      assert.ok(Math.abs(y[i]! - (a * Math.cos(th) - b * Math.sin(th))) < 1e-12, `head ${h} pair ${j} real`);
      assert.ok(Math.abs(y[i + 1]! - (a * Math.sin(th) + b * Math.cos(th))) < 1e-12, `head ${h} pair ${j} imag`);
    }
  }
  // Token 0 is unchanged.
  for (let i = 0; i < dim; i++) assert.ok(Math.abs(y[i]! - xs[i]!) < 1e-15);
});

test('applyRope refuses a token count that is not the grid', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 10, 24]);
  assert.throws(() => applyRope(x, { frames: 2, h: 2, w: 3 }, 2), (e: unknown) => e instanceof ShapeError && /RoPE/.test(e.message) && /\[1,10,24\]/.test(e.message));
});
