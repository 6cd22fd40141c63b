// Every rule in the VJP table (vjp-rules.ts) has a float64 finite-difference gradient check here, on a
// small case that really contains the op. A rule added to the table without a case below fails the
// first test, naming the op. (The op families' own tests check more shapes and options; this file is
// the guarantee that nothing in the table goes unchecked.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../exec/gradcheck.js';
import { evaluate } from '../exec/run-once.js';
import { grad } from './autodiff.js';
import { Graph } from './graph.js';
import type { Tensor } from './graph.js';
import { VJP_RULES, vjpKey } from './vjp-rules.js';
import { geluFused } from './ops/activations.js';
import { attentionBlockwiseWithLse } from './ops/attention-blockwise.js';
import { conv, convTranspose } from './ops/conv.js';
import { abs, add, cast, compare, cos, div, erf, exp, log, max, min, mul, neg, pow, reciprocal, relu, sigmoid, sin, softplus, sqrt, sub, tanh } from './ops/elementwise.js';
import { concat, gather, pad, slice, split, where } from './ops/indexing.js';
import { gemm, matmul } from './ops/matmul.js';
import { layerNorm, rmsNorm, softmax } from './ops/normalization.js';
import { reduceLogSumExp, reduceMax, reduceMean, reduceSum } from './ops/reduce.js';
import { upsampleNearestResize } from './ops/resize.js';
import { expandTo, reshape, squeeze, transpose, unsqueeze } from './ops/shape.js';

interface Case {
  /** Builds the forward graph on float64 inputs; returns the tensor whose weighted sum is the loss. */
  build: (g: Graph) => { out: Tensor | Tensor[]; wrt: Tensor[] };
  /** Values for some inputs (others get seeded values in [-1, 1]). */
  feeds?: Record<string, Float64Array>;
  /** Largest relative error accepted (default 1e-6). */
  tol?: number;
  eps?: number;
}

const f64 = (g: Graph, name: string, shape: number[]): Tensor => g.input(name, 'float64', shape);
const between = (n: number, seed: number, lo: number, hi: number): Float64Array => seededValues(n, seed, lo, hi);

// Keyed like the table ("domain::op"); one case per rule.
const CASES: Record<string, Case> = {
  'ai.onnx::Add': { build: (g) => ((a, b) => ({ out: add(a, b), wrt: [a, b] }))(f64(g, 'a', [3, 4]), f64(g, 'b', [4])) },
  'ai.onnx::Sub': { build: (g) => ((a, b) => ({ out: sub(a, b), wrt: [a, b] }))(f64(g, 'a', [3, 1]), f64(g, 'b', [3, 4])) },
  'ai.onnx::Mul': { build: (g) => ((a, b) => ({ out: mul(a, b), wrt: [a, b] }))(f64(g, 'a', [2, 3]), f64(g, 'b', [2, 1])) },
  'ai.onnx::Div': { build: (g) => ((a, b) => ({ out: div(a, b), wrt: [a, b] }))(f64(g, 'a', [2, 3]), f64(g, 'b', [3])), feeds: { b: between(3, 5, 0.5, 2) } },
  // Both the base and the exponent are differentiated (the base kept positive so ln(a) exists).
  'ai.onnx::Pow': { build: (g) => ((a, p) => ({ out: pow(a, p), wrt: [a, p] }))(f64(g, 'a', [2, 3]), f64(g, 'p', [3])), feeds: { a: between(6, 7, 0.5, 1.5), p: between(3, 8, -1.5, 2.5) } },
  'ai.onnx::Max': { build: (g) => ((a, b) => ({ out: max(a, b), wrt: [a, b] }))(f64(g, 'a', [3, 4]), f64(g, 'b', [4])) },
  'ai.onnx::Min': { build: (g) => ((a, b) => ({ out: min(a, b), wrt: [a, b] }))(f64(g, 'a', [3, 4]), f64(g, 'b', [4])) },
  'ai.onnx::Neg': { build: (g) => ((x) => ({ out: neg(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Exp': { build: (g) => ((x) => ({ out: exp(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Log': { build: (g) => ((x) => ({ out: log(x), wrt: [x] }))(f64(g, 'x', [5])), feeds: { x: between(5, 3, 0.3, 2) } },
  'ai.onnx::Sqrt': { build: (g) => ((x) => ({ out: sqrt(x), wrt: [x] }))(f64(g, 'x', [5])), feeds: { x: between(5, 3, 0.3, 2) } },
  'ai.onnx::Tanh': { build: (g) => ((x) => ({ out: tanh(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Sigmoid': { build: (g) => ((x) => ({ out: sigmoid(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Reciprocal': { build: (g) => ((x) => ({ out: reciprocal(x), wrt: [x] }))(f64(g, 'x', [5])), feeds: { x: between(5, 3, 0.5, 2) } },
  'ai.onnx::Abs': { build: (g) => ((x) => ({ out: abs(x), wrt: [x] }))(f64(g, 'x', [6])) },
  // Through float32 and back: the finite difference needs a step well above float32's rounding.
  'ai.onnx::Cast': { build: (g) => ((x) => ({ out: cast(cast(x, 'float32'), 'float64'), wrt: [x] }))(f64(g, 'x', [5])), eps: 1e-2, tol: 1e-4 },
  'ai.onnx::Erf': { build: (g) => ((x) => ({ out: erf(x), wrt: [x] }))(f64(g, 'x', [6])), feeds: { x: between(6, 2, -2.5, 2.5) } },
  'ai.onnx::Cos': { build: (g) => ((x) => ({ out: cos(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Sin': { build: (g) => ((x) => ({ out: sin(x), wrt: [x] }))(f64(g, 'x', [5])) },
  'ai.onnx::Softplus': { build: (g) => ((x) => ({ out: softplus(x), wrt: [x] }))(f64(g, 'x', [6])), feeds: { x: between(6, 2, -4, 4) } },
  'ai.onnx::Relu': { build: (g) => ((x) => ({ out: relu(x), wrt: [x] }))(f64(g, 'x', [6])) },
  'ai.onnx::ReduceSum': { build: (g) => ((x) => ({ out: reduceSum(x, [1]), wrt: [x] }))(f64(g, 'x', [2, 3, 2])) },
  'ai.onnx::ReduceMean': { build: (g) => ((x) => ({ out: reduceMean(x, [0, 2], true), wrt: [x] }))(f64(g, 'x', [2, 3, 2])) },
  'ai.onnx::ReduceMax': { build: (g) => ((x) => ({ out: reduceMax(x, [1]), wrt: [x] }))(f64(g, 'x', [3, 4])) },
  'ai.onnx::ReduceLogSumExp': { build: (g) => ((x) => ({ out: reduceLogSumExp(x, [1]), wrt: [x] }))(f64(g, 'x', [3, 4])) },
  'ai.onnx::Reshape': { build: (g) => ((x) => ({ out: reshape(x, [3, 4]), wrt: [x] }))(f64(g, 'x', [2, 6])) },
  'ai.onnx::Transpose': { build: (g) => ((x) => ({ out: transpose(x, [2, 0, 1]), wrt: [x] }))(f64(g, 'x', [2, 3, 4])) },
  'ai.onnx::Expand': { build: (g) => ((x) => ({ out: expandTo(x, [3, 2, 4]), wrt: [x] }))(f64(g, 'x', [2, 1])) },
  'ai.onnx::Identity': { build: (g) => ((x) => ({ out: g.node('Identity', [x], {}, [{ dtype: 'float64', shape: x.shape }])[0]!, wrt: [x] }))(f64(g, 'x', [4])) },
  'ai.onnx::Unsqueeze': { build: (g) => ((x) => ({ out: unsqueeze(x, [0, 2]), wrt: [x] }))(f64(g, 'x', [3, 2])) },
  'ai.onnx::Squeeze': { build: (g) => ((x) => ({ out: squeeze(x, [1]), wrt: [x] }))(f64(g, 'x', [3, 1, 2])) },
  'ai.onnx::MatMul': { build: (g) => ((a, b) => ({ out: matmul(a, b), wrt: [a, b] }))(f64(g, 'a', [2, 3, 4]), f64(g, 'b', [4, 5])) },
  'ai.onnx::Gemm': { build: (g) => ((a, b, c) => ({ out: gemm(a, b, c, { transB: true, alpha: 0.7, beta: 1.3 }), wrt: [a, b, c] }))(f64(g, 'a', [3, 4]), f64(g, 'b', [5, 4]), f64(g, 'c', [5])) },
  'ai.onnx::Gelu': { build: (g) => ((x) => ({ out: [geluFused(x, 'tanh'), geluFused(x, 'none')], wrt: [x] }))(f64(g, 'x', [6])), feeds: { x: between(6, 4, -3, 3) } },
  'ai.onnx::Softmax': { build: (g) => ((x) => ({ out: softmax(x, -1), wrt: [x] }))(f64(g, 'x', [2, 5])) },
  'ai.onnx::LayerNormalization': { build: (g) => ((x, w, b) => ({ out: layerNorm(x, w, b), wrt: [x, w, b] }))(f64(g, 'x', [3, 4]), f64(g, 'w', [4]), f64(g, 'b', [4])) },
  'ai.onnx::RMSNormalization': { build: (g) => ((x, w) => ({ out: rmsNorm(x, w), wrt: [x, w] }))(f64(g, 'x', [3, 4]), f64(g, 'w', [4])) },
  'ai.onnx::Concat': { build: (g) => ((a, b) => ({ out: concat([a, b], 1), wrt: [a, b] }))(f64(g, 'a', [2, 3]), f64(g, 'b', [2, 2])) },
  'ai.onnx::Slice': { build: (g) => ((x) => ({ out: slice(x, [1, 0], [3, 4], [0, 1], [1, 2]), wrt: [x] }))(f64(g, 'x', [4, 4])) },
  'ai.onnx::Split': { build: (g) => ((x) => ({ out: split(x, [1, 3], 1), wrt: [x] }))(f64(g, 'x', [2, 4])) },
  'ai.onnx::Gather': { build: (g) => ((x) => ({ out: gather(x, [2, 0, 2], 0), wrt: [x] }))(f64(g, 'x', [3, 2])) },
  'ai.onnx::Pad': { build: (g) => ((x) => ({ out: pad(x, [1, 0, 0, 2], 0.5), wrt: [x] }))(f64(g, 'x', [2, 3])) },
  'ai.onnx::Where': { build: (g) => ((c, a, b) => ({ out: where(compare('Greater', c, 0), a, b), wrt: [a, b] }))(f64(g, 'c', [2, 3]), f64(g, 'a', [2, 3]), f64(g, 'b', [3])) },
  'ai.onnx::Conv': { build: (g) => ((x, w, b) => ({ out: conv(x, w, b, { pads: [1, 0, 1, 0], strides: [1, 2] }), wrt: [x, w, b] }))(f64(g, 'x', [1, 2, 4, 5]), f64(g, 'w', [3, 2, 3, 2]), f64(g, 'b', [3])) },
  'ai.onnx::ConvTranspose': { build: (g) => ((x, w, b) => ({ out: convTranspose(x, w, b, { strides: [2, 1] }), wrt: [x, w, b] }))(f64(g, 'x', [1, 2, 3, 3]), f64(g, 'w', [2, 3, 2, 2]), f64(g, 'b', [3])) },
  'ai.onnx::Resize': { build: (g) => ((x) => ({ out: upsampleNearestResize(x, [2, 3]), wrt: [x] }))(f64(g, 'x', [1, 2, 2, 2])) },
  'refree::BlockwiseAttention': {
    build: (g) => {
      const q = f64(g, 'q', [1, 2, 5, 4]);
      const k = f64(g, 'k', [1, 2, 6, 4]);
      const v = f64(g, 'v', [1, 2, 6, 3]);
      const { out, lse } = attentionBlockwiseWithLse(q, k, v, { blockSize: 2 });
      return { out: [out, lse], wrt: [q, k, v] };
    },
  },
};

test('every rule in the VJP table has a gradient-check case, and every case a rule', () => {
  const table = VJP_RULES.map((e) => vjpKey(e.domain ?? '', e.op));
  const missing = table.filter((k) => !(k in CASES));
  assert.deepEqual(missing, [], `VJP rules without a float64 gradient check: ${missing.join(', ')} (add a case to engine/graph/vjp-rules.test.ts)`);
  const stale = Object.keys(CASES).filter((k) => !table.includes(k));
  assert.deepEqual(stale, [], `gradient-check cases for ops that have no rule in vjp-rules.ts: ${stale.join(', ')}`);
});

for (const entry of VJP_RULES) {
  const key = vjpKey(entry.domain ?? '', entry.op);
  const c = CASES[key];
  if (!c) continue; // reported by the test above
  test(`VJP of ${key} matches float64 finite differences`, async () => {
    const r = await gradcheck(
      (g) => {
        const { out, wrt } = c.build(g);
        // The case must really contain the op (after any op function picked a different node).
        assert.ok(
          g.nodes.some((n) => n.opType === entry.op && (n.domain || '') === (entry.domain ?? '')),
          `the case for ${key} builds no ${entry.op} node`,
        );
        // loss = Σ wᵢ·outᵢ with fixed random weights, so every output element's gradient matters.
        const outs = Array.isArray(out) ? out : [out];
        let loss: Tensor | null = null;
        outs.forEach((o, i) => {
          const w = g.constant('float64', o.shape, Array.from(seededValues(o.size, 99 + i)));
          const term = reduceSum(mul(o, w));
          loss = loss ? add(loss, term) : term;
        });
        return { loss: loss!, wrt };
      },
      c.feeds ?? {},
      { samplesPerTensor: 8, ...(c.eps ? { eps: c.eps } : {}) },
    );
    const tol = c.tol ?? 1e-6;
    assert.ok(r.maxRelError <= tol, `${key}: max relative error ${r.maxRelError.toExponential(2)} > ${tol} (${r.worst})`);
  });
}

// Ties: PyTorch's maximum/minimum give each operand half of the gradient where a == b.
test('Max and Min split a tie’s gradient equally between the operands', async () => {
  const g = new Graph();
  const a = f64(g, 'a', [4]);
  const b = f64(g, 'b', [4]);
  const [gaMax, gbMax] = grad(reduceSum(max(a, b)), [a, b]);
  const [gaMin, gbMin] = grad(reduceSum(min(a, b)), [a, b]);
  const x = f64(g, 'x', [3]);
  // Against a broadcast scalar: relu written as max(x, 0) at x = 0.
  const [gx] = grad(reduceSum(max(x, 0)), [x]);
  const [maxA, maxB, minA, minB, relu0] = await evaluate(g, [gaMax!, gbMax!, gaMin!, gbMin!, gx!], {
    a: Float64Array.of(1, 2, 3, -1),
    b: Float64Array.of(1, 0, 5, -1),
    x: Float64Array.of(0, 2, -2),
  });
  assert.deepEqual(Array.from(maxA!), [0.5, 1, 0, 0.5]);
  assert.deepEqual(Array.from(maxB!), [0.5, 0, 1, 0.5]);
  assert.deepEqual(Array.from(minA!), [0.5, 0, 1, 0.5]);
  assert.deepEqual(Array.from(minB!), [0.5, 1, 0, 0.5]);
  assert.deepEqual(Array.from(relu0!), [0.5, 1, 0]);
});
