import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { avgDown3d, dupUp3d } from './shortcuts.js';
import { runOnce } from '../../exec/run-once.js';

const run = (g: Graph, feeds: Record<string, Float32Array>) => runOnce(g, feeds) as Promise<Record<string, Float32Array>>;

test('AvgDown3D by hand: space-to-depth order (c, dt, dh, dw) and the first chunk front zero frame', async () => {
  const g = new Graph();
  // 2x2 pixels [[1, 2], [3, 4]] into 4 channels: channel dh·2 + dw (height offset first, unlike patchify).
  g.output(avgDown3d(g.input('a', 'float32', [1, 1, 1, 2, 2]), 4, 1, 2, true), 'sd');
  // 2x2 average pooling (4 positions into one channel).
  g.output(avgDown3d(g.input('b', 'float32', [1, 1, 1, 2, 2]), 1, 1, 2, true), 'pool');
  // One frame on a first chunk with ft = 2: [zero frame, x0] into 2 channels.
  g.output(avgDown3d(g.input('c', 'float32', [1, 1, 1, 1, 1]), 2, 2, 1, true), 'time');
  const r = await run(g, { a: Float32Array.from([1, 2, 3, 4]), b: Float32Array.from([1, 2, 3, 6]), c: Float32Array.from([5]) });
  assert.deepEqual(Array.from(r.sd!), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(r.pool!), [3]);
  assert.deepEqual(Array.from(r.time!), [0, 5]);
});

test('DupUp3D by hand: repeat_interleave then depth-to-space/time; a first chunk drops ft-1 frames', async () => {
  const g = new Graph();
  // 4 channels into 1 channel over 2x2: the inverse of the space-to-depth above.
  g.output(dupUp3d(g.input('a', 'float32', [1, 4, 1, 1, 1]), 1, 1, 2, false), 'ds');
  // 2 channels → 2 channels, ft = 2: every frame doubles; on a first chunk one copy is dropped.
  g.output(dupUp3d(g.input('b', 'float32', [1, 2, 1, 1, 1]), 2, 2, 1, false), 'twice');
  g.output(dupUp3d(g.input('c', 'float32', [1, 2, 1, 1, 1]), 2, 2, 1, true), 'once');
  const r = await run(g, { a: Float32Array.from([1, 2, 3, 4]), b: Float32Array.from([7, 8]), c: Float32Array.from([7, 8]) });
  assert.deepEqual(Array.from(r.ds!), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(r.twice!), [7, 7, 8, 8]);
  assert.deepEqual(Array.from(r.once!), [7, 8]);
});

test('AvgDown3D undoes DupUp3D with matching factors (channels 4 -> 2 -> 4, ft 2, fs 2)', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 4, 2, 4, 4]);
  const up = dupUp3d(x, 2, 2, 2, false);
  assert.deepEqual(up.shape, [1, 2, 4, 8, 8]);
  g.output(avgDown3d(up, 4, 2, 2, false), 'y');
  const data = Float32Array.from({ length: 128 }, (_, i) => Math.cos(i * 1.3));
  const { y } = await run(g, { x: data });
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(y![i]! - data[i]!) < 1e-6, `${i}`);
});

test('AvgDown3D on a later chunk refuses a frame count that is not a multiple of ft', () => {
  const g = new Graph();
  assert.throws(
    () => avgDown3d(g.input('x', 'float32', [1, 4, 3, 4, 4]), 8, 2, 2, false),
    (e: unknown) => e instanceof ShapeError && e.op === 'AvgDown3D' && e.message.includes('[1,4,3,4,4]'),
  );
});
