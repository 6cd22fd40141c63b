// Elementwise math with numpy broadcasting. Numbers are accepted where a tensor is expected and
// become scalar constants of the other operand's dtype: mul(x, 0.5).
import type { Tensor } from '../graph.js';
import { int } from '../graph.js';
import type { DType } from '../dtype.js';
import { ONNX_DTYPE } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { registerVjp } from '../vjp-registry.js';
import { broadcastShapes } from './broadcast.js';
import { unbroadcast } from './shape.js';

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

// --- VJPs -------------------------------------------------------------------------------------------
registerVjp('Add', ({ node, needs }, [g]) => [
  needs(0) ? unbroadcast(g!, node.inputs[0]!.shape) : null,
  needs(1) ? unbroadcast(g!, node.inputs[1]!.shape) : null,
]);
registerVjp('Sub', ({ node, needs }, [g]) => [
  needs(0) ? unbroadcast(g!, node.inputs[0]!.shape) : null,
  needs(1) ? unbroadcast(neg(g!), node.inputs[1]!.shape) : null,
]);
registerVjp('Mul', ({ node, needs }, [g]) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  return [needs(0) ? unbroadcast(mul(g!, b), a.shape) : null, needs(1) ? unbroadcast(mul(g!, a), b.shape) : null];
});
registerVjp('Div', ({ node, needs }, [g]) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  const y = node.outputs[0]!;
  return [needs(0) ? unbroadcast(div(g!, b), a.shape) : null, needs(1) ? unbroadcast(neg(div(mul(g!, y), b)), b.shape) : null];
});
registerVjp('Pow', ({ node, needs }, [g]) => {
  const [a, p] = node.inputs as [Tensor, Tensor];
  const y = node.outputs[0]!;
  // d/da a^p = p * a^(p-1); d/dp a^p = a^p * ln(a) (only meaningful for a > 0).
  return [needs(0) ? unbroadcast(mul(g!, mul(p, pow(a, sub(p, 1)))), a.shape) : null, needs(1) ? unbroadcast(mul(g!, mul(y, log(a))), p.shape) : null];
});
function minMaxVjp(op: 'Max' | 'Min') {
  return registerVjp(op, ({ node, needs }, [g]) => {
    const [a, b] = node.inputs as [Tensor, Tensor];
    const y = node.outputs[0]!;
    // Ties send the gradient to the first operand, as PyTorch's maximum does for a == b halves; we pick a.
    const pickA = cast(compare('Equal', a, y), g!.dtype);
    const pickB = sub(1, pickA);
    return [needs(0) ? unbroadcast(mul(g!, pickA), a.shape) : null, needs(1) ? unbroadcast(mul(g!, pickB), b.shape) : null];
  });
}
minMaxVjp('Max');
minMaxVjp('Min');
registerVjp('Neg', (_c, [g]) => [neg(g!)]);
registerVjp('Exp', ({ node }, [g]) => [mul(g!, node.outputs[0]!)]);
registerVjp('Log', ({ node }, [g]) => [div(g!, node.inputs[0]!)]);
registerVjp('Sqrt', ({ node }, [g]) => [div(mul(g!, 0.5), node.outputs[0]!)]);
registerVjp('Tanh', ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [mul(g!, sub(1, mul(y, y)))];
});
registerVjp('Sigmoid', ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [mul(g!, mul(y, sub(1, y)))];
});
registerVjp('Reciprocal', ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [neg(mul(g!, mul(y, y)))];
});
registerVjp('Abs', ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const sign = sub(cast(compare('Greater', x, 0), x.dtype), cast(compare('Less', x, 0), x.dtype));
  return [mul(g!, sign)];
});
registerVjp('Cast', ({ node }, [g]) => [cast(g!, node.inputs[0]!.dtype)]);
