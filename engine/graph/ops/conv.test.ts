import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { conv, convTranspose } from './conv.js';
import type { ConvOptions, ConvTransposeOptions } from './conv.js';
import { reduceSum } from './reduce.js';
import { add, mul } from './elementwise.js';
import { ShapeError } from '../errors.js';
import { grad } from '../autodiff.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { CompiledGraph } from '../../runtime/session.js';

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  opts: ConvTransposeOptions;
}

// The loss is a fixed random weighting of the output, so every output entry (and so every dX, dW and
// dB entry) carries a distinct, non-trivial gradient.
async function checkGrad(c: Case, op: 'conv' | 'convTranspose'): Promise<void> {
  const r = await gradcheck((g) => {
    const x = g.input('x', 'float64', c.x);
    const w = g.input('w', 'float64', c.w);
    const b = c.bias ? g.input('b', 'float64', [op === 'conv' ? c.w[0]! : c.w[1]! * (c.opts.group ?? 1)]) : null;
    const y = op === 'conv' ? conv(x, w, b, c.opts) : convTranspose(x, w, b, c.opts);
    const r = g.input('r', 'float64', y.shape);
    return { loss: reduceSum(mul(y, r)), wrt: b ? [x, w, b] : [x, w] };
  });
  const sizes = [c.x, c.w].map((s) => s.reduce((a, b) => a * b, 1));
  const expected = sizes.reduce((a, n) => a + Math.min(n, 24), 0) + (c.bias ? 1 : 0);
  assert.ok(r.checked >= expected, `${c.name}: only ${r.checked} entries checked`);
  assert.ok(r.maxRelError <= 1e-6, `${c.name}: max rel error ${r.maxRelError} (${r.worst})`);
}

const convCases: Case[] = [
  { name: '1D k5 pad 2 stride 1', x: [2, 3, 9], w: [4, 3, 5], bias: true, opts: { pads: [2, 2] } },
  { name: '1D k5 pad 2 stride 2', x: [1, 2, 10], w: [3, 2, 5], bias: true, opts: { pads: [2, 2], strides: [2] } },
  // Stride 2 without padding on an even length: the last input entry is never read (dW trims it).
  { name: '1D k3 stride 2, unread tail', x: [2, 2, 10], w: [2, 2, 3], bias: false, opts: { strides: [2] } },
  { name: '2D 3x3 stride 2 pads (0,0,1,1) (Wan downsample)', x: [1, 3, 6, 6], w: [4, 3, 3, 3], bias: true, opts: { strides: [2, 2], pads: [0, 0, 1, 1] } },
  { name: '2D 3x3 groups=2 pad 1', x: [2, 4, 5, 4], w: [6, 2, 3, 3], bias: true, opts: { pads: [1, 1, 1, 1], group: 2 } },
  { name: '2D 3x3 dilation 2 asymmetric pads', x: [1, 2, 7, 6], w: [3, 2, 3, 3], bias: true, opts: { dilations: [2, 2], pads: [1, 2, 2, 1] } },
  { name: '2D 1x1 conv', x: [2, 3, 3, 2], w: [5, 3, 1, 1], bias: true, opts: {} },
  { name: '3D 3x3x3 causal (time pads 2/0, spatial 1/1)', x: [1, 2, 3, 4, 4], w: [3, 2, 3, 3, 3], bias: true, opts: { pads: [2, 1, 1, 0, 1, 1] } },
  { name: '3D (3,1,1) stride (2,1,1) time conv', x: [1, 3, 5, 2, 3], w: [3, 3, 3, 1, 1], bias: true, opts: { strides: [2, 1, 1] } },
];

for (const c of convCases) {
  test(`Conv VJP (dX, dW, dB) matches float64 finite differences: ${c.name}`, async () => {
    await checkGrad(c, 'conv');
  });
}

const convTCases: Case[] = [
  { name: '1D stride 2 output_padding 1 pads 1/0', x: [2, 4, 4], w: [4, 3, 3], bias: true, opts: { strides: [2], pads: [1, 0], outputPadding: [1] } },
  { name: '2D stride 2 groups 2 dilation (1,2)', x: [1, 4, 3, 3], w: [4, 1, 3, 2], bias: true, opts: { strides: [2, 2], dilations: [1, 2], pads: [1, 0, 0, 1], group: 2 } },
  { name: '1D dilation 3 output_padding 2 stride 3', x: [1, 2, 4], w: [2, 2, 2], bias: false, opts: { strides: [3], dilations: [3], outputPadding: [2] } },
  { name: '3D stride (2,1,1)', x: [1, 2, 2, 2, 3], w: [2, 2, 3, 1, 2], bias: true, opts: { strides: [2, 1, 1] } },
];

for (const c of convTCases) {
  test(`ConvTranspose VJP matches float64 finite differences: ${c.name}`, async () => {
    await checkGrad(c, 'convTranspose');
  });
}

test('second order: the Conv VJP graph (ConvTranspose for dX, swapped-axes Conv for dW) is itself differentiable', async () => {
  const r = await gradcheck((g) => {
    const x = g.input('x', 'float64', [2, 4, 5, 5]);
    const w = g.input('w', 'float64', [4, 2, 3, 3]);
    const y = conv(x, w, null, { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 });
    const [dx, dw] = grad(reduceSum(mul(y, g.input('r', 'float64', y.shape))), [x, w]) as [Tensor, Tensor];
    return { loss: add(reduceSum(mul(dx, dx)), reduceSum(mul(dw, dw))), wrt: [x, w] };
  });
  assert.ok(r.maxRelError <= 1e-6, `max rel error ${r.maxRelError} (${r.worst})`);
});

// ORT's float32 Conv/ConvTranspose kernels against the im2col lowering (which float64 graphs run).
async function runBoth(build: (g: Graph) => Tensor | Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const g = new Graph();
  const built = build(g);
  const ys = Array.isArray(built) ? built : [built];
  const feeds: Record<string, Float32Array> = {};
  g.inputs.forEach((t, i) => (feeds[t.name] = Float32Array.from(seededValues(t.size, 99 + 31 * i))));
  const out: Float32Array[][] = [];
  for (const forceLowering of [false, true]) {
    const c = await CompiledGraph.fromGraph(g, { outputs: ys, forceLowering, optimization: 'disabled' });
    const r = await c.run(feeds);
    out.push(ys.map((y) => r[y.name] as Float32Array));
    await c.release();
  }
  return [out[0]!, out[1]!];
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths differ`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst <= 1e-5, `${what}: max abs difference ${worst}`);
  assert.ok(a.some((v) => Math.abs(v) > 1e-3), `${what}: output is all ~0, the comparison proves nothing`);
}

test('float32: ORT Conv and ConvTranspose agree with the im2col lowering (1D/2D/3D, groups, strides, dilations)', async () => {
  const convs: Case[] = [...convCases, { name: '2D depthwise stride 2', x: [1, 4, 5, 5], w: [4, 1, 3, 3], bias: true, opts: { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] } }];
  for (const c of convs) {
    const [ort, lowered] = await runBoth((g) => {
      const x = g.input('x', 'float32', c.x);
      const w = g.input('w', 'float32', c.w);
      const b = c.bias ? g.input('b', 'float32', [c.w[0]!]) : null;
      return conv(x, w, b, c.opts as ConvOptions);
    });
    assertClose(ort[0]!, lowered[0]!, `Conv ${c.name}`);
  }
  for (const c of convTCases) {
    const [ort, lowered] = await runBoth((g) => {
      const x = g.input('x', 'float32', c.x);
      const w = g.input('w', 'float32', c.w);
      const b = c.bias ? g.input('b', 'float32', [c.w[1]! * (c.opts.group ?? 1)]) : null;
      return convTranspose(x, w, b, c.opts);
    });
    assertClose(ort[0]!, lowered[0]!, `ConvTranspose ${c.name}`);
  }
});

test('float32: the gradient graphs run on the ORT Conv/ConvTranspose kernels and match the lowering', async () => {
  // The float64 checks run the lowered forms only; this proves ORT accepts the VJP's nodes (the
  // output_padding of dX, the swapped-axes dW conv) and computes the same numbers.
  for (const [c, op] of [...convCases.map((c) => [c, 'conv'] as const), ...convTCases.map((c) => [c, 'convTranspose'] as const)]) {
    const [ort, lowered] = await runBoth((g) => {
      const x = g.input('x', 'float32', c.x);
      const w = g.input('w', 'float32', c.w);
      const b = c.bias ? g.input('b', 'float32', [op === 'conv' ? c.w[0]! : c.w[1]! * (c.opts.group ?? 1)]) : null;
      const y = op === 'conv' ? conv(x, w, b, c.opts as ConvOptions) : convTranspose(x, w, b, c.opts);
      const loss = reduceSum(mul(y, g.input('r', 'float32', y.shape)));
      return grad(loss, b ? [x, w, b] : [x, w]);
    });
    ort.forEach((v, i) => assertClose(v, lowered[i]!, `${op} ${c.name} gradient ${i}`));
  }
});

test('Conv shape inference follows the ONNX output-size formula', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 12, 5, 16, 16]);
  const w = g.input('w', 'float32', [8, 12, 3, 3, 3]);
  // CausalConv3d: time front pad 2, spatial 1/1 keeps the shape.
  assert.deepEqual(conv(x, w, null, { pads: [2, 1, 1, 0, 1, 1] }).shape, [1, 8, 5, 16, 16]);
  const x2 = g.input('x2', 'float32', [1, 4, 16, 16]);
  const w2 = g.input('w2', 'float32', [4, 4, 3, 3]);
  // Wan downsample: ZeroPad2d(0,1,0,1) + 3x3 stride 2 halves the size.
  assert.deepEqual(conv(x2, w2, null, { pads: [0, 0, 1, 1], strides: [2, 2] }).shape, [1, 4, 8, 8]);
  assert.deepEqual(convTranspose(x2, w2, null, { pads: [1, 1, 1, 1], strides: [2, 2], outputPadding: [1, 1] }).shape, [1, 4, 32, 32]);
});

test('Conv shape errors are raised at build time and name the op, the shapes and the caller', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 4, 5, 5]);
  const isShapeError = (re: RegExp) => (e: unknown) => e instanceof ShapeError && /Conv/.test(e.message) && /\[1,4,5,5\]/.test(e.message) && /conv\.test\.ts/.test(e.message) && re.test(e.message);
  // Channel mismatch: W expects 3 input channels.
  assert.throws(() => conv(x, g.input('w1', 'float32', [2, 3, 3, 3]), null), isShapeError(/input channels per group/));
  // Group does not divide the output channels.
  assert.throws(() => conv(x, g.input('w2', 'float32', [3, 2, 3, 3]), null, { group: 2 }), isShapeError(/group 2 must divide/));
  // Kernel larger than the padded input.
  assert.throws(() => conv(x, g.input('w3', 'float32', [2, 4, 7, 3]), null, { pads: [0, 0, 1, 0] }), isShapeError(/larger than the padded input 6/));
  // Dilation makes the kernel extent 9 > 5.
  assert.throws(() => conv(x, g.input('w4', 'float32', [2, 4, 3, 3]), null, { dilations: [4, 1] }), isShapeError(/extent 9/));
  // Pads given per axis instead of per side.
  assert.throws(() => conv(x, g.input('w5', 'float32', [2, 4, 3, 3]), null, { pads: [1, 1] }), isShapeError(/pads/));
  // Bias of the wrong length.
  assert.throws(() => conv(x, g.input('w6', 'float32', [2, 4, 3, 3]), g.input('b6', 'float32', [4])), isShapeError(/bias must be \[2\]/));
  // Weight rank differs from X's.
  assert.throws(() => conv(x, g.input('w7', 'float32', [2, 4, 3]), null), isShapeError(/same rank/));
  // ConvTranspose: W's axis 0 must match X's channels.
  assert.throws(() => convTranspose(x, g.input('w8', 'float32', [3, 2, 3, 3]), null), isShapeError(/ConvTranspose/));
  // output_padding must be smaller than the stride (ORT refuses it even where ONNX allows it).
  assert.throws(() => convTranspose(x, g.input('w9', 'float32', [4, 2, 3, 3]), null, { strides: [2, 2], dilations: [3, 1], outputPadding: [2, 0] }), isShapeError(/output_padding 2 on axis 0 must be < stride 2/));
});
