import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { patchify, unpatchify } from './patchify.js';
import { runOnce } from '../../exec/run-once.js';

const run = (g: Graph, feeds: Record<string, Float32Array>) => runOnce(g, feeds) as Promise<Record<string, Float32Array>>;

test('patchify 2x2 uses channel order (c, r, q): r = width offset, q = height offset', async () => {
  // One channel, one frame, 2x2 pixels x[h][w] = [[1, 2], [3, 4]].
  // channel r·2 + q reads x[q][r]: (0,0) → 1, (r0,q1) → x[1][0] = 3, (r1,q0) → x[0][1] = 2, (1,1) → 4.
  const g = new Graph();
  g.output(patchify(g.input('x', 'float32', [1, 1, 1, 2, 2]), 2), 'y');
  const { y } = await run(g, { x: Float32Array.from([1, 2, 3, 4]) });
  assert.deepEqual(Array.from(y!), [1, 3, 2, 4]);
});

test('patchify matches out[c·4 + r·2 + q, t, h, w] = in[c, t, 2h + q, 2w + r] and unpatchify inverts it', async () => {
  const [c, t, hh, ww] = [3, 2, 4, 6];
  const g = new Graph();
  const x = g.input('x', 'float32', [1, c, t, hh, ww]);
  const p = patchify(x, 2);
  assert.deepEqual(p.shape, [1, 12, t, 2, 3]);
  g.output(p, 'p');
  g.output(unpatchify(p, 2), 'back');
  const data = Float32Array.from({ length: c * t * hh * ww }, (_, i) => i * 0.5 - 7);
  const { p: pv, back } = await run(g, { x: data });
  assert.deepEqual(Array.from(back!), Array.from(data));
  const [h2, w2] = [hh / 2, ww / 2];
  for (let ci = 0; ci < c; ci++)
    for (let r = 0; r < 2; r++)
      for (let q = 0; q < 2; q++)
        for (let ti = 0; ti < t; ti++)
          for (let h = 0; h < h2; h++)
            for (let w = 0; w < w2; w++) {
              const got = pv![(((ci * 4 + r * 2 + q) * t + ti) * h2 + h) * w2 + w];
              const want = data[((ci * t + ti) * hh + 2 * h + q) * ww + 2 * w + r];
              assert.equal(got, want, `c${ci} r${r} q${q} t${ti} h${h} w${w}`);
            }
});

test('patchify rejects odd sizes with a ShapeError naming the shape', () => {
  const g = new Graph();
  assert.throws(
    () => patchify(g.input('x', 'float32', [1, 3, 1, 5, 4]), 2),
    (e: unknown) => e instanceof ShapeError && e.op === 'patchify' && e.message.includes('[1,3,1,5,4]'),
  );
});
