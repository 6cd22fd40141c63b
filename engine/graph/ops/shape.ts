// Shape ops: Reshape, Transpose, Expand, Unsqueeze, Squeeze, Flatten. The VJPs are in shape-vjp.ts.
import type { Shape, Tensor } from '../graph.js';
import { ints } from '../graph.js';
import { ShapeError } from '../errors.js';
import { broadcastShapes, normAxis, sameShape, sizeOf } from './broadcast.js';

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

/** Inserts size-1 axes; `axes` index the output (ONNX Unsqueeze), negatives count from its end. */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const outRank = x.rank + axes.length;
  const norm = axes.map((a) => normAxis(a, outRank));
  if (norm.some((a) => a < 0) || new Set(norm).size !== norm.length) {
    throw new ShapeError('Unsqueeze', [x.shape], `axes [${axes.join(',')}] must be distinct and within output rank ${outRank}`);
  }
  if (norm.length === 0) return x;
  const set = new Set(norm);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < outRank; i++) shape.push(set.has(i) ? 1 : x.shape[k++]!);
  const sorted = [...norm].sort((a, b) => a - b);
  return x.graph.node('Unsqueeze', [x, x.graph.int64s(sorted)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** Removes size-1 axes: the given ones (each must be 1), or every size-1 axis when omitted. */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const norm = axes ? axes.map((a) => normAxis(a, x.rank)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  if (norm.some((a) => a < 0) || new Set(norm).size !== norm.length) {
    throw new ShapeError('Squeeze', [x.shape], `axes [${(axes ?? []).join(',')}] must be distinct and within rank ${x.rank}`);
  }
  const bad = norm.filter((a) => x.shape[a] !== 1);
  if (bad.length) throw new ShapeError('Squeeze', [x.shape], `axes [${bad.join(',')}] do not have size 1`);
  if (norm.length === 0) return x;
  const set = new Set(norm);
  const shape = x.shape.filter((_, i) => !set.has(i));
  const sorted = [...norm].sort((a, b) => a - b);
  return x.graph.node('Squeeze', [x, x.graph.int64s(sorted)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** Collapses axes [0, axis) and [axis, rank) into a 2-D tensor (ONNX Flatten semantics, via Reshape). */
export function flatten(x: Tensor, axis = 1): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a > x.rank) throw new ShapeError('Flatten', [x.shape], `axis ${axis} out of range for rank ${x.rank}`);
  return reshape(x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))]);
}
