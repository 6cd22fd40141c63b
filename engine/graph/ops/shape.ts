// Shape ops: Reshape, Transpose, Expand, and the unbroadcast helper every binary VJP needs.
import type { Shape, Tensor } from '../graph.js';
import { ints } from '../graph.js';
import { ShapeError } from '../errors.js';
import { registerVjp } from '../vjp-registry.js';
import { broadcastAxes, broadcastShapes, sameShape, sizeOf } from './broadcast.js';
import { reduceSum } from './reduce.js';

/** Reshape with at most one -1 (inferred) and 0 meaning "keep this dimension". */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const resolved = shape.map((d, i) => (d === 0 ? x.shape[i]! : d));
  const unknown = resolved.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError('Reshape', [x.shape, shape], 'more than one -1 in the target shape');
  const known = resolved.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (unknown === 1) {
    if (known === 0 || x.size % known !== 0) throw new ShapeError('Reshape', [x.shape, shape], `cannot infer -1: ${x.size} elements`);
    resolved[resolved.indexOf(-1)] = x.size / known;
  }
  if (sizeOf(resolved) !== x.size) throw new ShapeError('Reshape', [x.shape, shape], `element count ${x.size} != ${sizeOf(resolved)}`);
  if (sameShape(resolved, x.shape)) return x;
  return x.graph.node('Reshape', [x, x.graph.int64s(resolved)], {}, [{ dtype: x.dtype, shape: resolved }])[0]!;
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const ok = perm.length === x.rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  if (!ok) throw new ShapeError('Transpose', [x.shape], `perm [${perm.join(',')}] is not a permutation of ${x.rank} axes`);
  if (perm.every((p, i) => p === i)) return x;
  return x.graph.node('Transpose', [x], { perm: ints(perm) }, [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }])[0]!;
}

/** Swaps the last two axes. */
export function transposeLast2(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

/** Broadcasts x to `shape` (numpy rules; x may have fewer axes). */
export function expandTo(x: Tensor, shape: Shape): Tensor {
  const out = broadcastShapes(x.shape, shape);
  if (!out || !sameShape(out, shape)) throw new ShapeError('Expand', [x.shape, shape], 'cannot broadcast to the target shape');
  if (sameShape(x.shape, shape)) return x;
  return x.graph.node('Expand', [x, x.graph.int64s(shape)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** Sums a broadcast gradient back to the shape of the operand it came from. */
export function unbroadcast(gradient: Tensor, shape: Shape): Tensor {
  if (sameShape(gradient.shape, shape)) return gradient;
  const axes = broadcastAxes(shape, gradient.shape);
  const summed = axes.length ? reduceSum(gradient, axes, true) : gradient;
  return reshape(summed, shape);
}

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

registerVjp('Reshape', ({ node }, [g]) => [reshape(g!, node.inputs[0]!.shape), null]);
registerVjp('Transpose', ({ node }, [g]) => [transpose(g!, inversePerm(node.attrInts('perm')))]);
registerVjp('Expand', ({ node }, [g]) => [unbroadcast(g!, node.inputs[0]!.shape), null]);
registerVjp('Identity', (_ctx, [g]) => [g]);
