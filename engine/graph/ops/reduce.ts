// Reductions over axes (axes are an int64 input since opset 18), and unbroadcast, the sum that every
// broadcasting op's gradient needs. The VJPs are in reduce-vjp.ts.
import type { Tensor } from '../graph.js';
import { int } from '../graph.js';
import { ShapeError } from '../errors.js';
import type { Shape } from '../graph.js';
import { broadcastAxes, normAxis, sameShape } from './broadcast.js';
import { reshape } from './shape.js';

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

/** Sums a broadcast gradient back to the shape of the operand it came from. */
export function unbroadcast(gradient: Tensor, shape: Shape): Tensor {
  if (sameShape(gradient.shape, shape)) return gradient;
  const axes = broadcastAxes(shape, gradient.shape);
  const summed = axes.length ? reduceSum(gradient, axes, true) : gradient;
  return reshape(summed, shape);
}
