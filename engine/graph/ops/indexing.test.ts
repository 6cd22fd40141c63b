import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { ShapeError } from '../errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { Feeds } from '../../runtime/session.js';
import { compare, mul, tanh } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { flatten, squeeze, unsqueeze } from './shape.js';
import { chunk, concat, gather, narrow, pad, slice, split, where } from './indexing.js';

/** A loss with a distinct weight per element, so a gradient routed to the wrong place is caught. */
function weighted(t: Tensor, seed = 99): Tensor {
  return reduceSum(mul(tanh(t), t.graph.constant(t.dtype, t.shape, seededValues(t.size, seed, 0.5, 2))));
}

const ok = (r: { maxRelError: number; worst: string }) => assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);

/** Runs a float64 graph once and returns its single output. */
async function evaluate(build: (g: Graph) => Tensor, feeds: Feeds): Promise<{ values: number[]; shape: readonly number[] }> {
  const g = new Graph();
  const out = build(g);
  const c = await CompiledGraph.fromGraph(g, { outputs: [out], optimization: 'disabled' });
  const r = await c.run(feeds);
  await c.release();
  return { values: Array.from(r[out.name] as Float64Array), shape: out.shape };
}

/** Row-major strides and a reader for a JS reference. */
const at = (data: ArrayLike<number>, shape: readonly number[]) => (...idx: number[]) =>
  data[idx.reduce((off, v, i) => off * shape[i]! + v, 0)]!;

const shapeErr = (op: string, ...shapes: string[]) => (e: unknown) =>
  e instanceof ShapeError && e.message.includes(op) && shapes.every((s) => e.message.includes(s)) && /indexing\.test\.ts/.test(e.message);

test('Concat: VJP (three inputs, middle axis) matches float64 finite differences', async () => {
  ok(
    await gradcheck((g) => {
      const a = g.input('a', 'float64', [2, 1, 3]);
      const b = g.input('b', 'float64', [2, 2, 3]);
      const c = g.input('c', 'float64', [2, 3, 3]);
      return { loss: weighted(concat([a, b, c], 1)), wrt: [a, c] };
    }),
  );
});

test('Concat: forward values and shape-error message', async () => {
  const xa = seededValues(6, 1);
  const xb = seededValues(4, 2);
  const r = await evaluate((g) => concat([g.input('a', 'float64', [2, 3]), g.input('b', 'float64', [2, 2])], -1), { a: xa, b: xb });
  assert.deepEqual(r.shape, [2, 5]);
  const ref = [0, 1].flatMap((i) => [...xa.slice(3 * i, 3 * i + 3), ...xb.slice(2 * i, 2 * i + 2)]);
  assert.deepEqual(r.values, ref);
  const g = new Graph();
  assert.throws(() => concat([g.input('p', 'float32', [2, 3]), g.input('q', 'float32', [3, 3])], 1), shapeErr('Concat', '[2,3]', '[3,3]'));
});

test('Slice: negative starts/ends, step 1 (Pad VJP)', async () => {
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [4, 6, 3]);
      return { loss: weighted(slice(x, [-3, 1], [-1, 100], [0, -2])), wrt: [x] };
    }),
  );
});

test('Slice: steps 2, -1 and -3 (reverse + dilate + Pad VJP) and forward values', async () => {
  const shape = [5, 7, 6];
  const starts = [1, -1, 5];
  const ends = [5, -Infinity, 0];
  const axes = [0, 1, 2];
  const steps = [2, -1, -3];
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', shape);
      return { loss: weighted(slice(x, starts, ends, axes, steps)), wrt: [x] };
    }),
  );
  const xv = seededValues(5 * 7 * 6, 7);
  const r = await evaluate((g) => slice(g.input('x', 'float64', shape), starts, ends, axes, steps), { x: xv });
  // Reference: axis0 1,3; axis1 6..0; axis2 5,2.
  const get = at(xv, shape);
  const ref: number[] = [];
  for (const i of [1, 3]) for (let j = 6; j >= 0; j--) for (const k of [5, 2]) ref.push(get(i, j, k));
  assert.deepEqual(r.shape, [2, 7, 2]);
  assert.deepEqual(r.values, ref);
});

test('Slice: shape errors and narrow', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [4, 5]);
  assert.throws(() => slice(x, [0], [2], [0], [0]), shapeErr('Slice', '[4,5]', 'step 0'));
  assert.throws(() => slice(x, [0], [2], [2]), shapeErr('Slice', '[4,5]', 'axis 2'));
  assert.deepEqual(narrow(x, 1, 1, 3).shape, [4, 3]);
  assert.deepEqual(slice(x, [10], [20], [1]).shape, [4, 0]);
  assert.equal(slice(x, [0], [Infinity], [0]), x, 'a full slice is the tensor itself');
});

test('Split: one output unused gets a zero gradient', async () => {
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [3, 6]);
      const [p0, , p2] = split(x, [1, 2, 3], -1);
      return { loss: weighted(concat([p0!, p2!], 1)), wrt: [x] };
    }),
  );
  const g = new Graph();
  const x = g.input('x', 'float32', [4, 6]);
  assert.deepEqual(chunk(x, 3, 1).map((t) => t.shape), [[4, 2], [4, 2], [4, 2]]);
  assert.throws(() => split(x, [2, 3], 1), shapeErr('Split', '[4,6]', 'add up to 5'));
});

test('Gather: repeated and negative constant indices accumulate (axis 1)', async () => {
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [3, 4, 2]);
      return { loss: weighted(gather(x, [2, 0, 2, -1, 2], 1)), wrt: [x] };
    }),
  );
});

test('Gather: runtime int64 indices (negative, repeated, 2-D) and a scalar index', async () => {
  const idx = BigInt64Array.from([1n, -1n, 1n, 0n, 4n, 1n]);
  ok(
    await gradcheck(
      (g) => {
        const x = g.input('x', 'float64', [5, 3]);
        const i = g.input('i', 'int64', [2, 3]);
        return { loss: weighted(gather(x, i, 0)), wrt: [x] };
      },
      { i: idx },
    ),
  );
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [2, 5, 3]);
      return { loss: weighted(gather(x, 3, 1)), wrt: [x] };
    }),
  );
  const xv = seededValues(15, 3);
  const r = await evaluate((g) => gather(g.input('x', 'float64', [5, 3]), g.input('i', 'int64', [2, 3]), 0), { x: xv, i: idx });
  assert.deepEqual(r.shape, [2, 3, 3]);
  const ref = Array.from(idx, (v) => Number(v)).flatMap((v) => {
    const row = v < 0 ? v + 5 : v;
    return Array.from(xv.slice(3 * row, 3 * row + 3));
  });
  assert.deepEqual(r.values, ref);
  const g = new Graph();
  assert.throws(() => gather(g.input('y', 'float32', [5, 3]), [5], 0), shapeErr('Gather', '[5,3]', 'out of range'));
});

test('Unsqueeze/Squeeze/Flatten: shapes, errors and VJP', async () => {
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [3, 1, 4]);
      const y = unsqueeze(squeeze(x, [1]), [0, -1]);
      assert.deepEqual(y.shape, [1, 3, 4, 1]);
      return { loss: weighted(flatten(y, 2)), wrt: [x] };
    }),
  );
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 3, 1]);
  assert.deepEqual(squeeze(x).shape, [3]);
  assert.deepEqual(unsqueeze(x, [1]).shape, [1, 1, 3, 1]);
  assert.throws(() => squeeze(x, [1]), shapeErr('Squeeze', '[1,3,1]', 'size 1'));
});

test('Pad: constant value, mixed negative pads, VJP and forward values', async () => {
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [2, 3, 4]);
      return { loss: weighted(pad(x, [0, 1, 2, 1, 0, 3], 0.5)), wrt: [x] };
    }),
  );
  ok(
    await gradcheck((g) => {
      const x = g.input('x', 'float64', [3, 5]);
      return { loss: weighted(pad(x, [-1, 2, 1, -2])), wrt: [x] };
    }),
  );
  const xv = seededValues(6, 5);
  const r = await evaluate((g) => pad(g.input('x', 'float64', [2, 3]), [1, -1, 0, 2], 7), { x: xv });
  // Rows: one pad row, then the two rows; columns: drop column 0, add two 7s.
  const ref = [7, 7, 7, 7, ...[0, 1].flatMap((i) => [xv[3 * i + 1]!, xv[3 * i + 2]!, 7, 7])];
  assert.deepEqual(r.shape, [3, 4]);
  assert.deepEqual(r.values, ref);
  const g = new Graph();
  assert.throws(() => pad(g.input('y', 'float32', [2, 3]), [0, 0, 0]), shapeErr('Pad', '[2,3]'));
  assert.throws(() => pad(g.input('z', 'float32', [2, 3]), [0, -2, 0, -2]), shapeErr('Pad', '[2,3]', 'crop'));
});

test('Where: broadcast branches get unbroadcast gradients', async () => {
  ok(
    await gradcheck((g) => {
      const c = g.input('c', 'float64', [2, 1, 4]);
      const a = g.input('a', 'float64', [3, 4]);
      const b = g.input('b', 'float64', [4]);
      return { loss: weighted(where(compare('Greater', c, 0), a, b)), wrt: [a, b] };
    }),
  );
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3]);
  assert.throws(() => where(x, x, 0), shapeErr('Where', '[2,3]', 'bool'));
  assert.throws(() => where(compare('Greater', x, 0), x, g.input('y', 'float32', [4])), shapeErr('Where', '[2,3]', '[4]'));
});

test('Gather gradient in float16 runs on the CPU (accumulated in float32) and matches float32', async () => {
  const grads: number[][] = [];
  for (const dtype of ['float16', 'float32'] as const) {
    const g = new Graph();
    const x = g.input('x', dtype, [5, 3]);
    const y = gather(x, [0, 2, 2, 4], 0);
    const { grad } = await import('../autodiff.js');
    const [gx] = grad(reduceSum(mul(y, y)), [x]);
    g.output(gx!, 'gx');
    const c = await CompiledGraph.fromGraph(g);
    const xs = Float32Array.from(seededValues(15, 3));
    const { f32ToF16, f16ToF32 } = await import('../half.js');
    const r = await c.run({ x: dtype === 'float16' ? f32ToF16(xs).data : xs });
    await c.release();
    grads.push(Array.from(dtype === 'float16' ? f16ToF32(r.gx as Uint16Array) : (r.gx as Float32Array)));
  }
  // Row 2 is gathered twice: its gradient is 2·(2x) accumulated; float16 agrees to its precision.
  grads[0]!.forEach((v, i) => assert.ok(Math.abs(v - grads[1]![i]!) <= 2e-3 * Math.max(1, Math.abs(grads[1]![i]!)), `entry ${i}: ${v} vs ${grads[1]![i]}`));
});
