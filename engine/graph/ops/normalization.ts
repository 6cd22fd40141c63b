// Softmax, LayerNorm and RMSNorm. Each records ONE fused ONNX node (Softmax, LayerNormalization,
// RMSNormalization), so inference graphs get the fused kernels. Their VJPs are written with primitives
// and recompute mean and 1/std from x (LayerNormalization's Mean/InvStdDev outputs are float32 whatever
// x's dtype, and ORT CPU has no kernel that emits them in float64), so the same VJP runs in float32
// training graphs and in float64 gradient checks.
//
// ORT CPU 1.30 facts (probed): Softmax, LayerNormalization (one output, default stash_type) and
// RMSNormalization all have float64 kernels, so float64 graphs use the fused nodes and no lowering is
// needed there. LayerNorm and RMSNorm still carry a primitive lowering, used under forceLowering (tests)
// and available as layerNormPrimitive / rmsNormPrimitive for backends that lack the fused kernel.
import type { Graph, Node, Tensor } from '../graph.js';
import { float, int } from '../graph.js';
import type { DType } from '../dtype.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import { normAxis, sameShape } from './broadcast.js';
import { add, cast, mul, reciprocal, sqrt, sub } from './elementwise.js';
import { reduceMean, reduceSum, unbroadcast } from './reduce.js';

// --- Softmax ------------------------------------------------------------------------------------------

/** Softmax over one axis (ONNX opset-13+ semantics: the other axes are independent). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis(axis, x.rank);
  if (a < 0) throw new ShapeError('Softmax', [x.shape], `axis ${axis} out of range for rank ${x.rank}`);
  return x.graph.node('Softmax', [x], { axis: int(a) }, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}

// dx = y·(g − Σ_axis g·y).
export const vjpSoftmax: VjpRule = ({ node }, [g]) => {
  const y = node.outputs[0]!;
  const axis = normAxis(node.attrInt('axis', -1), y.rank);
  return [mul(y, sub(g!, reduceSum(mul(g!, y), [axis], true)))];
};

// --- shared helpers -----------------------------------------------------------------------------------

export interface NormOptions {
  /** First normalized axis; every axis from it to the last is normalized (default -1: the last). */
  axis?: number;
  /** Added to the variance (mean square for RMSNorm). Default 1e-5, ONNX's and PyTorch LayerNorm's default. */
  eps?: number;
}

/** The normalized axes [axis, rank) after checking that axis is in range. */
function normAxes(op: string, x: Tensor, axis: number): number[] {
  const a = normAxis(axis, x.rank);
  if (a < 0) throw new ShapeError(op, [x.shape], `axis ${axis} out of range for rank ${x.rank}`);
  return x.shape.map((_, i) => i).filter((i) => i >= a);
}

function checkParam(op: string, what: string, x: Tensor, p: Tensor | null, normShape: readonly number[]): void {
  if (!p) return;
  if (!sameShape(p.shape, normShape)) {
    throw new ShapeError(op, [x.shape, p.shape], `${what} must have the normalized shape ${fmtShape(normShape)} (x's axes from the normalized axis on), got ${fmtShape(p.shape)}`);
  }
  if (p.dtype !== x.dtype) throw new ShapeError(op, [x.shape, p.shape], `${what} is ${p.dtype} but x is ${x.dtype}`);
}

const onesCache = new WeakMap<Graph, Map<string, Tensor>>();
/** The ones Scales we created, so VJPs can skip multiplying by them. */
const onesScales = new WeakSet<Tensor>();

/** A ones tensor used as Scale when a norm has no weight (ONNX requires Scale); one per shape and graph. */
function ones(g: Graph, dtype: DType, shape: readonly number[]): Tensor {
  // float16 goes through a float32 constant and a Cast (folded by ORT), which does not depend on how
  // g.constant encodes half-precision values.
  const base: DType = dtype === 'float64' ? 'float64' : 'float32';
  let m = onesCache.get(g);
  if (!m) onesCache.set(g, (m = new Map()));
  const key = `${base}|${shape.join(',')}`;
  let t = m.get(key);
  if (!t) {
    t = g.constant(base, shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(1));
    m.set(key, t);
  }
  // The Cast is made per call (not cached) so it always lands in the node list being recorded.
  const out = cast(t, dtype);
  onesScales.add(out);
  return out;
}

/** ONNX stores epsilon as a float32 attribute; VJPs and lowerings use the same rounded value. */
const epsOf = (node: Node): number => Math.fround(node.attrFloat('epsilon'));

// --- LayerNorm ----------------------------------------------------------------------------------------

/** (x − mean)/√(var + eps)·weight + bias over the normalized axes, from primitives (differentiable as is). */
export function layerNormPrimitive(x: Tensor, weight: Tensor | null, bias: Tensor | null, opts: NormOptions = {}): Tensor {
  const axes = normAxes('LayerNormalization', x, opts.axis ?? -1);
  const normShape = axes.map((i) => x.shape[i]!);
  checkParam('LayerNormalization', 'weight', x, weight, normShape);
  checkParam('LayerNormalization', 'bias', x, bias, normShape);
  const d = sub(x, reduceMean(x, axes, true));
  let y = mul(d, reciprocal(sqrt(add(reduceMean(mul(d, d), axes, true), opts.eps ?? 1e-5))));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/**
 * One ONNX LayerNormalization node. Without a weight, a ones Scale is fed (ONNX requires one);
 * without a bias, the optional B input is left out.
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, opts: NormOptions = {}): Tensor {
  const axes = normAxes('LayerNormalization', x, opts.axis ?? -1);
  const normShape = axes.map((i) => x.shape[i]!);
  checkParam('LayerNormalization', 'weight', x, weight, normShape);
  checkParam('LayerNormalization', 'bias', x, bias, normShape);
  const scale = weight ?? ones(x.graph, x.dtype, normShape);
  const inputs = bias ? [x, scale, bias] : [x, scale];
  const lowering = {
    when: () => false,
    build: ([xi, s, b]: readonly (Tensor | null)[], n: Node) => [layerNormPrimitive(xi!, s!, b ?? null, { axis: axes[0], eps: epsOf(n) })],
  };
  return x.graph.node('LayerNormalization', inputs, { axis: int(axes[0]!), epsilon: float(opts.eps ?? 1e-5) }, [{ dtype: x.dtype, shape: x.shape }], { lowering })[0]!;
}

// With x̂ = (x − μ)·r, r = 1/√(var + eps), ĝ = g·w:  dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),
// dw = Σ_batch g·x̂, db = Σ_batch g. μ and r are recomputed from x (see the header).
export const vjpLayerNormalization: VjpRule = ({ node, needs }, [g]) => {
  const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | undefined];
  const axes = x.shape.map((_, i) => i).filter((i) => i >= normAxis(node.attrInt('axis', -1), x.rank));
  const d = sub(x, reduceMean(x, axes, true));
  const r = reciprocal(sqrt(add(reduceMean(mul(d, d), axes, true), epsOf(node))));
  const xhat = mul(d, r);
  let dx: Tensor | null = null;
  if (needs(0)) {
    const gh = onesScales.has(w) ? g! : mul(g!, w);
    dx = mul(r, sub(sub(gh, reduceMean(gh, axes, true)), mul(xhat, reduceMean(mul(gh, xhat), axes, true))));
  }
  return [dx, needs(1) ? unbroadcast(mul(g!, xhat), w.shape) : null, b && needs(2) ? unbroadcast(g!, b.shape) : null];
};

// --- RMSNorm ------------------------------------------------------------------------------------------

/** x/√(mean(x²) + eps)·weight over the normalized axes, from primitives (differentiable as is). */
export function rmsNormPrimitive(x: Tensor, weight: Tensor | null, opts: NormOptions = {}): Tensor {
  const axes = normAxes('RMSNormalization', x, opts.axis ?? -1);
  checkParam('RMSNormalization', 'weight', x, weight, axes.map((i) => x.shape[i]!));
  const y = mul(x, reciprocal(sqrt(add(reduceMean(mul(x, x), axes, true), opts.eps ?? 1e-5))));
  return weight ? mul(y, weight) : y;
}

/** One ONNX RMSNormalization node (opset 23). Without a weight, a ones Scale is fed. */
export function rmsNorm(x: Tensor, weight: Tensor | null, opts: NormOptions = {}): Tensor {
  const axes = normAxes('RMSNormalization', x, opts.axis ?? -1);
  const normShape = axes.map((i) => x.shape[i]!);
  checkParam('RMSNormalization', 'weight', x, weight, normShape);
  const scale = weight ?? ones(x.graph, x.dtype, normShape);
  const lowering = {
    when: () => false,
    build: ([xi, s]: readonly (Tensor | null)[], n: Node) => [rmsNormPrimitive(xi!, s!, { axis: axes[0], eps: epsOf(n) })],
  };
  return x.graph.node('RMSNormalization', [x, scale], { axis: int(axes[0]!), epsilon: float(opts.eps ?? 1e-5) }, [{ dtype: x.dtype, shape: x.shape }], { lowering })[0]!;
}

// With x̂ = x·r, r = 1/√(mean(x²) + eps), ĝ = g·w:  dx = r·(ĝ − x̂·mean(ĝ·x̂)), dw = Σ_batch g·x̂.
export const vjpRMSNormalization: VjpRule = ({ node, needs }, [g]) => {
  const [x, w] = node.inputs as [Tensor, Tensor];
  const axes = x.shape.map((_, i) => i).filter((i) => i >= normAxis(node.attrInt('axis', -1), x.rank));
  const r = reciprocal(sqrt(add(reduceMean(mul(x, x), axes, true), epsOf(node))));
  const xhat = mul(x, r);
  let dx: Tensor | null = null;
  if (needs(0)) {
    const gh = onesScales.has(w) ? g! : mul(g!, w);
    dx = mul(r, sub(gh, mul(xhat, reduceMean(mul(gh, xhat), axes, true))));
  }
  return [dx, needs(1) ? unbroadcast(mul(g!, xhat), w.shape) : null];
};
