import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { patchify, unpatchify } from './patch.js';

async function run1(g: Graph, feed: Float32Array): Promise<Float32Array> {
  const c = await CompiledGraph.fromGraph(g);
  try {
    return (await c.run({ [g.inputs[0]!.name]: feed })).y as Float32Array;
  } finally {
    await c.release();
  }
}

// Each token value encodes (token, index inside the token), so every output position says where it came from.
for (const patch of [[1, 2, 2], [2, 2, 2]] as const) {
  test(`unpatchify ${patch.join('x')}: out[c, f·pt+p, y·ph+q, x·pw+r] = tok[f,y,x][((p·ph+q)·pw+r)·C + c]`, async () => {
    const [pt, ph, pw] = patch;
    const B = 2, C = 3, gf = 2, gh = 2, gw = 3;
    const L = gf * gh * gw;
    const P = pt * ph * pw * C;
    const g = new Graph();
    const tok = g.input('tok', 'float32', [B, L, P]);
    const out = g.output(unpatchify(tok, { frames: gf, h: gh, w: gw }, patch, C), 'y');
    assert.deepEqual(out.shape, [B, C, gf * pt, gh * ph, gw * pw]);
    const y = await run1(g, Float32Array.from({ length: B * L * P }, (_, i) => i));
    const [F, H, W] = [gf * pt, gh * ph, gw * pw];
    let checked = 0;
    for (let b = 0; b < B; b++) for (let f = 0; f < gf; f++) for (let yy = 0; yy < gh; yy++) for (let xx = 0; xx < gw; xx++) {
      for (let p = 0; p < pt; p++) for (let q = 0; q < ph; q++) for (let r = 0; r < pw; r++) for (let c = 0; c < C; c++) {
        const t = f * gh * gw + yy * gw + xx;
        const want = (b * L + t) * P + ((p * ph + q) * pw + r) * C + c;
        assert.equal(y[(((b * C + c) * F + f * pt + p) * H + yy * ph + q) * W + xx * pw + r], want);
        checked++;
      }
    }
    assert.equal(checked, y.length);
  });
}

test('patchify: token f·(h·w)+y·w+x holds the (c, kt, kh, kw) patch with kw fastest (the Conv3d weight order)', async () => {
  const B = 2, C = 3, F = 2, H = 4, W = 6;
  const g = new Graph();
  const lat = g.input('lat', 'float32', [B, C, F, H, W]);
  const out = g.output(patchify(lat, [1, 2, 2]), 'y');
  const gh = 2, gw = 3, L = F * gh * gw, P = C * 4;
  assert.deepEqual(out.shape, [B, L, P]);
  const y = await run1(g, Float32Array.from({ length: B * C * F * H * W }, (_, i) => i));
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) for (let yy = 0; yy < gh; yy++) for (let xx = 0; xx < gw; xx++) {
    for (let c = 0; c < C; c++) for (let kh = 0; kh < 2; kh++) for (let kw = 0; kw < 2; kw++) {
      const t = f * gh * gw + yy * gw + xx;
      assert.equal(y[(b * L + t) * P + (c * 2 + kh) * 2 + kw], (((b * C + c) * F + f) * H + yy * 2 + kh) * W + xx * 2 + kw);
    }
  }
});

test('patchify and unpatchify refuse shapes that do not fit the patch or the grid', () => {
  const g = new Graph();
  const lat = g.input('lat', 'float32', [1, 3, 2, 5, 6]);
  assert.throws(() => patchify(lat, [1, 2, 2]), (e: unknown) => e instanceof ShapeError && /PatchEmbedding/.test(e.message) && /\[1,3,2,5,6\]/.test(e.message));
  const tok = g.input('tok', 'float32', [1, 12, 10]);
  assert.throws(() => unpatchify(tok, { frames: 2, h: 2, w: 3 }, [1, 2, 2], 3), (e: unknown) => e instanceof ShapeError && /Unpatchify/.test(e.message) && /\[1,12,10\]/.test(e.message));
});
