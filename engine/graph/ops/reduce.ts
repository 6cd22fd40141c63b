// Reductions over axes (axes are an int64 input since opset 18).
import type { Tensor } from '../graph.js';
import { int } from '../graph.js';
import { ShapeError } from '../errors.js';
import { registerVjp } from '../vjp-registry.js';
import { normAxis } from './broadcast.js';
import { expandTo, reshape } from './shape.js';
import { cast, compare, div, exp, mul, sub } from './elementwise.js';

function reduceShape(op: string, x: Tensor, axes: readonly number[], keepdims: boolean): { axes: number[]; shape: number[] } {
  const norm = axes.map((a) => normAxis(a, x.rank));
  if (norm.some((a) => a < 0)) throw new ShapeError(op, [x.shape], `axes [${axes.join(',')}] out of range for rank ${x.rank}`);
  const set = new Set(norm);
  const shape = keepdims ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
  return { axes: [...set].sort((a, b) => a - b), shape };
}

function reduce(op: string, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const r = reduceShape(op, x, axes, keepdims);
  if (r.axes.length === 0) return x;
  return x.graph.node(op, [x, x.graph.int64s(r.axes)], { keepdims: int(keepdims ? 1 : 0) }, [{ dtype: x.dtype, shape: r.shape }])[0]!;
}

/** All axes when `axes` is omitted. */
export function reduceSum(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce('ReduceSum', x, axes ?? x.shape.map((_, i) => i), keepdims);
}
export function reduceMean(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce('ReduceMean', x, axes ?? x.shape.map((_, i) => i), keepdims);
}

/** The largest value over `axes` (all when omitted). Its gradient is split evenly among tied maxima. */
export function reduceMax(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce('ReduceMax', x, axes ?? x.shape.map((_, i) => i), keepdims);
}
/** log(Σ exp(x)) over `axes`, computed stably by ORT (it subtracts the max first). */
export function reduceLogSumExp(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce('ReduceLogSumExp', x, axes ?? x.shape.map((_, i) => i), keepdims);
}

/** The reduced axes of a reduction node (all when it has no axes input). */
function axesOf(x: Tensor, axesT: Tensor | null): number[] {
  return axesT ? Array.from(x.graph.inlineData(axesT) as BigInt64Array, Number) : x.shape.map((_, i) => i);
}
/** The gradient of a reduction: reshape to keepdims form, then broadcast back over the input. */
function spreadBack(g: Tensor, x: Tensor, axesT: Tensor | null): Tensor {
  const axes = axesOf(x, axesT);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expandTo(reshape(g, keep), x.shape);
}

registerVjp('ReduceSum', ({ node }, [g]) => [spreadBack(g!, node.inputs[0]!, node.inputs[1] ?? null), null]);
registerVjp('ReduceMean', ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  return [mul(spreadBack(g!, x, node.inputs[1] ?? null), y.size / x.size), null];
});

// The gradient goes to the positions equal to the max. Ties share it equally (mask / count), which is
// the subgradient torch.amax uses; with distinct values it is exactly the arg-max indicator.
registerVjp('ReduceMax', ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const axesT = node.inputs[1] ?? null;
  const mask = cast(compare('Equal', x, spreadBack(node.outputs[0]!, x, axesT)), x.dtype);
  const count = reduceSum(mask, axesOf(x, axesT), true);
  return [mul(spreadBack(g!, x, axesT), div(mask, count)), null];
});
// d lse / dx = softmax(x) over the reduced axes = exp(x - lse).
registerVjp('ReduceLogSumExp', ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const axesT = node.inputs[1] ?? null;
  const p = exp(sub(x, spreadBack(node.outputs[0]!, x, axesT)));
  return [mul(spreadBack(g!, x, axesT), p), null];
});
