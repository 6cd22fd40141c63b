import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { mul, tanh } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { upsampleNearest, upsampleNearestResize } from './resize.js';

/** Distinct weights per output element, so a block summed onto the wrong source is caught. */
function weighted(t: Tensor): Tensor {
  return reduceSum(mul(tanh(t), t.graph.constant(t.dtype, t.shape, seededValues(t.size, 99, 0.5, 2))));
}

/** JS reference: out[..., i, j, ...] = x[..., floor(i/s), floor(j/s), ...] over the trailing axes. */
function reference(x: ArrayLike<number>, shape: readonly number[], scales: readonly number[]): number[] {
  const lead = shape.length - scales.length;
  const factor = shape.map((_, i) => (i < lead ? 1 : scales[i - lead]!));
  const outShape = shape.map((d, i) => d * factor[i]!);
  const total = outShape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let src = 0;
    let stride = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const o = rem % outShape[i]!;
      rem = Math.floor(rem / outShape[i]!);
      src += Math.floor(o / factor[i]!) * stride;
      stride *= shape[i]!;
    }
    out.push(x[src]!);
  }
  return out;
}

for (const [shape, scales] of [
  [[2, 3, 4, 5], [2, 2]],
  [[1, 2, 3, 4, 5], [1, 2, 2]],
  [[1, 2, 2, 3, 2], [2, 2, 2]],
] as const) {
  test(`upsampleNearest ${JSON.stringify(shape)} x ${JSON.stringify(scales)}: Reshape/Expand form, Resize form and JS agree exactly`, async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', shape);
    const a = upsampleNearest(x, scales);
    const b = upsampleNearestResize(x, scales);
    assert.deepEqual(a.shape, b.shape);
    assert.equal(b.producer?.opType, 'Resize', 'the inference form is one Resize node');
    const c = await CompiledGraph.fromGraph(g, { outputs: [a, b] });
    const xv = Float32Array.from(seededValues(x.size, 11));
    const r = await c.run({ x: xv });
    await c.release();
    const ref = reference(xv, shape, scales);
    assert.deepEqual(Array.from(r[a.name] as Float32Array), ref);
    assert.deepEqual(Array.from(r[b.name] as Float32Array), ref);
  });
}

test('upsampleNearest VJP (4-D x2 and 5-D spatial x2) matches float64 finite differences', async () => {
  for (const [shape, scales] of [
    [[1, 2, 3, 2], [2, 2]],
    [[1, 2, 2, 3, 2], [1, 2, 2]],
  ] as const) {
    const r = await gradcheck((g) => {
      const x = g.input('x', 'float64', shape);
      return { loss: weighted(upsampleNearest(x, scales)), wrt: [x] };
    });
    assert.ok(r.maxRelError <= 1e-6, `${JSON.stringify(shape)}: ${r.maxRelError} (${r.worst})`);
  }
});

test('Resize VJP (float64 runs through the Reshape/Expand lowering) matches finite differences', async () => {
  const r = await gradcheck((g) => {
    const x = g.input('x', 'float64', [1, 2, 2, 3, 2]);
    return { loss: weighted(upsampleNearestResize(x, [2, 3, 2])), wrt: [x] };
  });
  assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
});

test('upsampleNearest rejects non-integer or too many scales, naming the op and shape', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 4, 8]);
  const fromHere = (op: string) => (e: unknown) => e instanceof ShapeError && e.message.includes(op) && e.message.includes('[1,4,8]') && /resize\.test\.ts/.test(e.message);
  assert.throws(() => upsampleNearest(x, [1.5]), fromHere('upsampleNearest'));
  assert.throws(() => upsampleNearestResize(x, [2, 2, 2, 2]), fromHere('Resize'));
  assert.equal(upsampleNearest(x, [1, 1]), x, 'unit scales are the identity');
});
