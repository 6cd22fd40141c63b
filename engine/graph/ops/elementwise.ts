// Elementwise math with numpy broadcasting. Numbers are accepted where a tensor is expected and
// become scalar constants of the other operand's dtype: mul(x, 0.5). The VJPs are in elementwise-vjp.ts
// (they need reductions, which need these ops: keeping them apart keeps the op files free of cycles).
import type { Tensor } from '../graph.js';
import { int } from '../graph.js';
import type { DType } from '../dtype.js';
import { ONNX_DTYPE } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { broadcastShapes } from './broadcast.js';

export type Operand = Tensor | number;

function lift(a: Operand, b: Operand, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new ShapeError(op, [], 'needs at least one tensor operand');
  const ta = typeof a === 'number' ? (b as Tensor).graph.scalar(a, (b as Tensor).dtype) : a;
  const tb = typeof b === 'number' ? ta.graph.scalar(b, ta.dtype) : b;
  return [ta, tb];
}

export function binary(op: string, a: Operand, b: Operand): Tensor {
  const [x, y] = lift(a, b, op);
  if (x.dtype !== y.dtype) throw new ShapeError(op, [x.shape, y.shape], `dtype mismatch ${x.dtype} vs ${y.dtype}`);
  const shape = broadcastShapes(x.shape, y.shape);
  if (!shape) throw new ShapeError(op, [x.shape, y.shape], 'shapes do not broadcast');
  return x.graph.node(op, [x, y], {}, [{ dtype: x.dtype, shape }])[0]!;
}

export function compare(op: 'Equal' | 'Less' | 'Greater' | 'LessOrEqual' | 'GreaterOrEqual', a: Operand, b: Operand): Tensor {
  const [x, y] = lift(a, b, op);
  const shape = broadcastShapes(x.shape, y.shape);
  if (!shape) throw new ShapeError(op, [x.shape, y.shape], 'shapes do not broadcast');
  return x.graph.node(op, [x, y], {}, [{ dtype: 'bool', shape }])[0]!;
}

export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
/** x ** p; the exponent is usually a constant. */
export const pow = (a: Operand, b: Operand): Tensor => binary('Pow', a, b);
export const max = (a: Operand, b: Operand): Tensor => binary('Max', a, b);
export const min = (a: Operand, b: Operand): Tensor => binary('Min', a, b);

export function unary(op: string, x: Tensor): Tensor {
  return x.graph.node(op, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}
export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
export const square = (x: Tensor): Tensor => mul(x, x);

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return x.graph.node('Cast', [x], { to: int(ONNX_DTYPE[dtype]) }, [{ dtype, shape: x.shape }])[0]!;
}

// --- Transcendental activations (added by the activations/normalization family) ---------------------
// Erf and Softplus have no float64 kernel on ORT CPU 1.30 (probed), so they carry a primitive lowering
// that the serializer uses for float64 graphs (gradient checks) or under forceLowering.
const isF64 = (node: { inputs: readonly (Tensor | null)[] }): boolean => node.inputs[0]!.dtype === 'float64';

/**
 * float64 erf from primitives, accurate to a few ulps: against CPython's math.erf on 20k-point grids,
 * max abs error 4.4e-16 for |x| < 2 and 1.1e-16 (half an ulp of 1) beyond. The accuracy matters beyond
 * the value itself: finite differences divide the function's rounding noise by 2e-6, and near erf = ±1
 * (GELU's tail) the ~14 ulps of a series-only version pushed gradient checks past 1e-6 (5e-6 measured;
 * this version: 1.5e-7 worst over 4000 points). Two branches, joined by Where:
 * - |x| < ERF_SPLIT: erf(x) = x·exp(-x²)·P(s), s = x²/ERF_SPLIT², P(s) = Σ d_n s^n with
 *   d_n = (2/√π)·2^n/(2n+1)!!·ERF_SPLIT^(2n). Every term is positive, so unlike the alternating Taylor
 *   series there is no cancellation, and the scaling keeps every coefficient in float32's range.
 * - |x| >= ERF_SPLIT: erf(x) = ±(1 − erfc(|x|)) with erfc(a) = exp(-a²)/(√π·F(a)) and Laplace's continued
 *   fraction F(a) = a + (1/2)/(a + 1/(a + (3/2)/(a + …))), evaluated from the tail. erfc keeps its
 *   relative accuracy, so 1 − erfc is within an ulp of erf.
 * Cost: ~200 elementwise nodes per Erf, paid only in float64 graphs (and under forceLowering).
 */
const ERF_SPLIT = 2;
/** Continued-fraction depth that converges to ~1e-16 relative at a = ERF_SPLIT (53 measured; margin). */
const ERFC_DEPTH = 60;
const ERF_COEFFS: readonly number[] = (() => {
  // Terms until the tail is below 1e-17 of the sum at |x| = ERF_SPLIT.
  const out: number[] = [];
  let c = 2 / Math.sqrt(Math.PI);
  let sum = 0;
  for (let n = 0; c > 1e-18 * sum; n++) {
    out.push(c);
    sum += c;
    c *= (2 * ERF_SPLIT * ERF_SPLIT) / (2 * n + 3);
  }
  return out;
})();

/** erf from primitives (Abs, Min, Max, Mul, Add, Div, Exp, Less, Where): the float64 lowering of Erf. */
export function erfPrimitive(x: Tensor): Tensor {
  const g = x.graph;
  // A raw Where node: the lowering is forward-only, so it needs no VJP and no dependency on indexing.ts.
  const whereNode = (cond: Tensor, a: Tensor, b: Tensor): Tensor => g.node('Where', [cond, a, b], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
  // Series branch (clamped so that it stays finite where the other branch is used).
  const xs = max(min(x, ERF_SPLIT), -ERF_SPLIT);
  const x2 = mul(xs, xs);
  const s = mul(x2, 1 / (ERF_SPLIT * ERF_SPLIT));
  let p: Tensor | number = ERF_COEFFS[ERF_COEFFS.length - 1]!;
  for (let n = ERF_COEFFS.length - 2; n >= 0; n--) p = add(mul(s, p), ERF_COEFFS[n]!);
  const series = mul(mul(xs, exp(neg(x2))), p as Tensor);
  // Continued-fraction branch on a = |x| (clamped below so that F never divides by ~0).
  const a = abs(x);
  const ac = max(a, ERF_SPLIT);
  let f = ac;
  for (let k = ERFC_DEPTH; k >= 1; k--) f = add(ac, div(k / 2, f));
  const tail = sub(1, div(exp(neg(mul(ac, ac))), mul(f, Math.sqrt(Math.PI))));
  const signed = whereNode(compare('Less', x, 0), neg(tail), tail);
  return whereNode(compare('Less', a, ERF_SPLIT), series, signed);
}

export function erf(x: Tensor): Tensor {
  return x.graph.node('Erf', [x], {}, [{ dtype: x.dtype, shape: x.shape }], { lowering: { when: isF64, build: ([t]) => [erfPrimitive(t!)] } })[0]!;
}
export const cos = (x: Tensor): Tensor => unary('Cos', x);
export const sin = (x: Tensor): Tensor => unary('Sin', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);

/** log(1 + exp(x)) written as max(x, 0) + log(1 + exp(-|x|)) so that exp never overflows. */
export function softplusPrimitive(x: Tensor): Tensor {
  return add(relu(x), log(add(exp(neg(abs(x))), 1)));
}
export function softplus(x: Tensor): Tensor {
  return x.graph.node('Softplus', [x], {}, [{ dtype: x.dtype, shape: x.shape }], { lowering: { when: isF64, build: ([t]) => [softplusPrimitive(t!)] } })[0]!;
}

