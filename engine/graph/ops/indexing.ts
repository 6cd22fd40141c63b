// Indexing ops: Concat, Slice, Split, Gather, Pad, Where. Shapes are inferred at build time from the
// static shapes; index arguments become int64 constant inputs (opset 23), already normalised to
// non-negative values so the VJPs can read them back from the node without re-deriving ONNX rules.
// Every VJP is built from ops with float64 CPU kernels (Slice, Pad, Reshape, Concat, ScatterND, Where),
// so the float64 gradient checks exercise the same rules as float32 training graphs.
import type { Shape, Tensor } from '../graph.js';
import { int, str } from '../graph.js';
import { ShapeError } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import { broadcastShapes, normAxis, sizeOf } from './broadcast.js';
import { add, cast, compare } from './elementwise.js';
import type { Operand } from './elementwise.js';
import { expandTo, reshape, transpose } from './shape.js';
import { unbroadcast } from './reduce.js';

/** A zero tensor of the given shape (a broadcast scalar, so it costs no constant storage). */
export function zeros(like: Tensor, shape: Shape): Tensor {
  return expandTo(like.graph.scalar(0, like.dtype), shape);
}

function checkAxis(op: string, shapes: readonly Shape[], axis: number, rank: number): number {
  const a = Number.isInteger(axis) ? normAxis(axis, rank) : -1;
  if (a < 0) throw new ShapeError(op, shapes, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** The int64 values of a constant index input (starts, pads, ...). */
function constInts(t: Tensor | null | undefined): number[] {
  const data = t ? t.graph.inlineData(t) : null;
  if (!data) throw new ShapeError('indexing VJP', [], `index input ${t?.name ?? '(missing)'} is not an inline constant`);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

// --- Concat ------------------------------------------------------------------------------------------

/** Joins tensors along `axis`; every other dimension must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const shapes = xs.map((t) => t.shape);
  const first = xs[0];
  if (!first) throw new ShapeError('Concat', [], 'needs at least one tensor');
  const a = checkAxis('Concat', shapes, axis, first.rank);
  for (const t of xs) {
    if (t.dtype !== first.dtype) throw new ShapeError('Concat', shapes, `dtype mismatch ${first.dtype} vs ${t.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError('Concat', shapes, `all dimensions except axis ${a} must match`);
    }
  }
  if (xs.length === 1) return first;
  const shape = [...first.shape];
  shape[a] = xs.reduce((s, t) => s + t.shape[a]!, 0);
  return first.graph.node('Concat', xs, { axis: int(a) }, [{ dtype: first.dtype, shape }])[0]!;
}

export const vjpConcat: VjpRule = ({ node, needs }, [g]) => {
  const axis = node.attrInt('axis');
  const sizes = node.inputs.map((t) => t!.shape[axis]!);
  // One Split hands every input its part; unneeded parts are simply dropped.
  const parts = split(g!, sizes, axis);
  return parts.map((p, i) => (needs(i) ? p : null));
};

// --- Slice -------------------------------------------------------------------------------------------

interface SliceAxis {
  axis: number;
  /** First element read, already clamped (ONNX rules). */
  start: number;
  /** End value to emit: a non-negative index, or -(dim+1) for "before element 0" with a negative step. */
  end: number;
  step: number;
  /** Output length along the axis. */
  count: number;
}

function resolveSlice(x: Tensor, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps: readonly number[]): SliceAxis[] {
  const fail = (detail: string): never => {
    throw new ShapeError('Slice', [x.shape], `${detail} (starts [${starts.join(',')}], ends [${ends.join(',')}], axes [${axes.join(',')}], steps [${steps.join(',')}])`);
  };
  if (starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length) fail('starts, ends, axes and steps must have the same length');
  const isIndex = (v: number) => Number.isInteger(v) || v === Infinity || v === -Infinity;
  const seen = new Set<number>();
  // A plain loop, not map(): a ShapeError thrown inside a callback would report Array.map as the caller.
  const out: SliceAxis[] = [];
  for (let i = 0; i < starts.length; i++) {
    const s0 = starts[i]!;
    const a = Number.isInteger(axes[i]) ? normAxis(axes[i]!, x.rank) : -1;
    if (a < 0) fail(`axis ${axes[i]} out of range for rank ${x.rank}`);
    if (seen.has(a)) fail(`axis ${a} repeated`);
    seen.add(a);
    const step = steps[i]!;
    const e0 = ends[i]!;
    if (!Number.isInteger(step) || step === 0) fail(`step ${step} must be a non-zero integer`);
    if (!isIndex(s0) || !isIndex(e0)) fail('starts and ends must be integers (or ±Infinity)');
    const d = x.shape[a]!;
    let s = s0 < 0 ? s0 + d : s0;
    let e = e0 < 0 ? e0 + d : e0;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), Math.max(d - 1, 0));
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const count = d === 0 ? 0 : Math.max(0, Math.ceil((e - s) / step));
    out.push({ axis: a, start: s, end: e === -1 ? -(d + 1) : e, step, count });
  }
  return out;
}

/**
 * ONNX Slice: for each listed axis, elements start, start+step, ... before end. Negative starts/ends
 * count from the end, out-of-range values clamp, steps may be negative (e.g. step -1 reverses).
 * `axes` defaults to [0, 1, ...], `steps` to all 1.
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
  const ax = axes ?? starts.map((_, i) => i);
  const st = steps ?? starts.map(() => 1);
  const r = resolveSlice(x, starts, ends, ax, st);
  const shape = [...x.shape];
  for (const s of r) shape[s.axis] = s.count;
  const identity = r.every((s) => s.step === 1 && s.start === 0 && s.count === x.shape[s.axis]);
  if (identity) return x;
  const g = x.graph;
  const inputs = [x, g.int64s(r.map((s) => s.start)), g.int64s(r.map((s) => s.end)), g.int64s(r.map((s) => s.axis))];
  if (r.some((s) => s.step !== 1)) inputs.push(g.int64s(r.map((s) => s.step)));
  return g.node('Slice', inputs, {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** The part of x selected along one axis: narrow(x, 1, 2, 3) is x[:, 2:5]. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  return slice(x, [start], [start + length], [axis]);
}

/**
 * Scatters the gradient of a slice back into zeros of the input's shape, with no index tensors:
 * negative-step axes are reversed, strided axes are dilated (insert an axis, Pad it with step-1
 * zeros, merge, trim the tail), then one Pad places the block at its offset.
 */
function sliceGrad(gOut: Tensor, inShape: Shape, axes: readonly { axis: number; start: number; step: number }[]): Tensor {
  if (gOut.size === 0) return zeros(gOut, inShape);
  let cur = gOut;
  const info = axes.map(({ axis, start, step }) => {
    const n = gOut.shape[axis]!;
    // Positions read are start, start+step, ..., so the lowest one is the first in ascending order.
    const first = step > 0 ? start : start + (n - 1) * step;
    return { axis, n, first, stride: n > 1 ? Math.abs(step) : 1, reversed: step < 0 && n > 1 };
  });
  const rev = info.filter((i) => i.reversed);
  if (rev.length) cur = slice(cur, rev.map(() => -1), rev.map(() => -Infinity), rev.map((i) => i.axis), rev.map(() => -1));
  const dil = info.filter((i) => i.stride > 1);
  if (dil.length) {
    const dilated = new Set(dil.map((i) => i.axis));
    const withSlots: number[] = [];
    const padEnds: number[] = [];
    cur.shape.forEach((d, a) => {
      withSlots.push(d);
      padEnds.push(0);
      if (dilated.has(a)) {
        withSlots.push(1);
        padEnds.push(info.find((i) => i.axis === a)!.stride - 1);
      }
    });
    cur = pad(reshape(cur, withSlots), [...withSlots.map(() => 0), ...padEnds]);
    cur = reshape(cur, mergeDilated(cur.shape, dilated, gOut.rank));
    cur = slice(cur, dil.map(() => 0), dil.map((i) => (i.n - 1) * i.stride + 1), dil.map((i) => i.axis));
  }
  const begins = inShape.map(() => 0);
  const endsP = inShape.map(() => 0);
  for (const i of info) {
    begins[i.axis] = i.first;
    endsP[i.axis] = inShape[i.axis]! - i.first - cur.shape[i.axis]!;
  }
  return pad(cur, [...begins, ...endsP]);
}

/** [.., d, k, ..] (k inserted after each dilated axis) back to [.., d*k, ..]. */
function mergeDilated(shape: Shape, dilated: ReadonlySet<number>, rank: number): number[] {
  const out: number[] = [];
  let k = 0;
  for (let a = 0; a < rank; a++) {
    const d = shape[k++]!;
    out.push(dilated.has(a) ? d * shape[k++]! : d);
  }
  return out;
}

export const vjpSlice: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const starts = constInts(node.inputs[1]);
  const axes = constInts(node.inputs[3]);
  const steps = node.inputs[4] ? constInts(node.inputs[4]) : axes.map(() => 1);
  return [sliceGrad(g!, x.shape, axes.map((axis, i) => ({ axis, start: starts[i]!, step: steps[i]! }))), null, null, null, null];
};

// --- Split -------------------------------------------------------------------------------------------

/** Cuts x along `axis` into consecutive parts of the given sizes (they must add up to the axis). */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = checkAxis('Split', [x.shape], axis, x.rank);
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new ShapeError('Split', [x.shape], `sizes [${sizes.join(',')}] must be non-negative integers`);
  }
  const total = sizes.reduce((s, v) => s + v, 0);
  if (total !== x.shape[a]) throw new ShapeError('Split', [x.shape], `sizes [${sizes.join(',')}] add up to ${total}, axis ${a} has ${x.shape[a]}`);
  if (sizes.length === 1) return [x];
  const specs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? s : d)) }));
  return x.graph.node('Split', [x, x.graph.int64s(sizes)], { axis: int(a) }, specs);
}

/** Splits into `n` equal parts (torch.chunk with an exact division). */
export function chunk(x: Tensor, n: number, axis: number): Tensor[] {
  const a = checkAxis('Split', [x.shape], axis, x.rank);
  const d = x.shape[a]!;
  if (!Number.isInteger(n) || n < 1 || d % n !== 0) throw new ShapeError('Split', [x.shape], `axis ${a} of size ${d} does not divide into ${n} equal chunks`);
  return split(x, new Array<number>(n).fill(d / n), a);
}

export const vjpSplit: VjpRule = ({ node }, gOuts) => {
  // Outputs nobody used have no gradient: their slot gets zeros so Concat sees the full axis.
  const parts = node.outputs.map((o, i) => gOuts[i] ?? zeros(o, o.shape));
  return [concat(parts, node.attrInt('axis')), null];
};

// --- Gather ------------------------------------------------------------------------------------------

/**
 * Picks entries of x along `axis` by index: out = x.shape[:axis] + indices.shape + x.shape[axis+1:].
 * `indices` is an int64/int32 tensor (negative values count from the end), a list (checked and
 * normalised at build time) or a single number (which removes the axis).
 */
export function gather(x: Tensor, indices: Tensor | readonly number[] | number, axis = 0): Tensor {
  const a = checkAxis('Gather', [x.shape], axis, x.rank);
  const d = x.shape[a]!;
  let idx: Tensor;
  if (typeof indices === 'number' || Array.isArray(indices)) {
    const list: readonly number[] = typeof indices === 'number' ? [indices] : (indices as readonly number[]);
    const bad = list.filter((v) => !Number.isInteger(v) || v < -d || v >= d);
    if (bad.length) throw new ShapeError('Gather', [x.shape], `indices [${bad.join(',')}] out of range for axis ${a} of size ${d}`);
    const norm = list.map((v) => (v < 0 ? v + d : v));
    idx = typeof indices === 'number' ? x.graph.constant('int64', [], norm) : x.graph.int64s(norm);
  } else {
    idx = indices as Tensor;
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new ShapeError('Gather', [x.shape, idx.shape], `indices must be int64 or int32, got ${idx.dtype}`);
  }
  const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  return x.graph.node('Gather', [x, idx], { axis: int(a) }, [{ dtype: x.dtype, shape }])[0]!;
}

/**
 * Gather's gradient: ScatterND with reduction 'add' into zeros, so repeated indices accumulate.
 * The gathered axis is moved to the front ([D, rest]) so each index addresses one row; for axis 0
 * (embedding lookups) no transpose is needed and the index tensor stays [K, 1].
 */
export const vjpGather: VjpRule = ({ node }, [g]) => {
  const [x, idx0] = node.inputs as [Tensor, Tensor];
  const axis = node.attrInt('axis');
  const D = x.shape[axis]!;
  const pre = sizeOf(x.shape.slice(0, axis));
  const post = sizeOf(x.shape.slice(axis + 1));
  const K = idx0.size;
  if (K === 0 || x.size === 0) return [zeros(x, x.shape), null];
  let idx = cast(idx0, 'int64');
  const known = x.graph.inlineData(idx0);
  const nonNegative = known !== null && Array.from(known as ArrayLike<number | bigint>, Number).every((v) => v >= 0);
  // Runtime indices may be negative (Gather allows it); normalise before scattering.
  if (!nonNegative) idx = where(compare('Less', idx, 0), add(idx, D), idx);
  let rows = reshape(g!, [pre, K, post]);
  if (pre > 1) rows = transpose(rows, [1, 0, 2]);
  rows = reshape(rows, [K, pre * post]);
  // ORT's CPU ScatterND has no float16 kernel with reduction 'add': accumulate half gradients in float32.
  const half = x.dtype === 'float16';
  const acc = half ? 'float32' : x.dtype;
  const src = half ? cast(rows, 'float32') : rows;
  const init = x.graph.constant(acc, [], [0]);
  const into = expandTo(init, [D, pre * post]);
  let scattered = x.graph.node('ScatterND', [into, reshape(idx, [K, 1]), src], { reduction: str('add') }, [{ dtype: acc, shape: [D, pre * post] }])[0]!;
  if (half) scattered = cast(scattered, 'float16');
  const back = pre > 1 ? transpose(reshape(scattered, [D, pre, post]), [1, 0, 2]) : scattered;
  return [reshape(back, x.shape), null];
};

// --- Pad ---------------------------------------------------------------------------------------------

/**
 * Constant padding. `pads` is in ONNX order: every axis's begin, then every axis's end. Negative
 * values crop; they are emitted as a Slice so that Pad only ever sees non-negative pads (not every
 * execution provider handles negative ones).
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  const r = x.rank;
  if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p))) {
    throw new ShapeError('Pad', [x.shape], `pads [${pads.join(',')}] must be ${2 * r} integers (all begins, then all ends)`);
  }
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  if (shape.some((d) => d < 0)) throw new ShapeError('Pad', [x.shape], `pads [${pads.join(',')}] crop more than the tensor holds`);
  let cur = x;
  if (pads.some((p) => p < 0)) {
    const axes = x.shape.map((_, i) => i).filter((i) => pads[i]! < 0 || pads[i + r]! < 0);
    cur = slice(x, axes.map((i) => Math.max(-pads[i]!, 0)), axes.map((i) => x.shape[i]! - Math.max(-pads[i + r]!, 0)), axes);
  }
  const pos = pads.map((p) => Math.max(p, 0));
  if (pos.every((p) => p === 0)) return cur;
  const g = x.graph;
  const inputs = [cur, g.int64s(pos)];
  if (value !== 0) inputs.push(g.scalar(value, x.dtype));
  return g.node('Pad', inputs, { mode: str('constant') }, [{ dtype: x.dtype, shape }])[0]!;
}

export const vjpPad: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  if (node.attrString('mode', 'constant') !== 'constant') throw new ShapeError('Pad VJP', [x.shape], `mode ${node.attrString('mode')} has no gradient rule`);
  const pads = constInts(node.inputs[1]);
  const r = x.rank;
  // Our Pad nodes only carry non-negative pads: the gradient is the interior block of g.
  const axes = x.shape.map((_, i) => i).filter((i) => pads[i]! !== 0 || pads[i + r]! !== 0);
  return [slice(g!, axes.map((i) => pads[i]!), axes.map((i) => pads[i]! + x.shape[i]!), axes), null, null];
};

// --- Where -------------------------------------------------------------------------------------------

/** Elementwise cond ? a : b with numpy broadcasting over all three; numbers become scalars. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new ShapeError('Where', [cond.shape], 'needs at least one tensor branch');
  const ta = typeof a === 'number' ? cond.graph.scalar(a, (b as Tensor).dtype) : a;
  const tb = typeof b === 'number' ? cond.graph.scalar(b, ta.dtype) : b;
  const shapes = [cond.shape, ta.shape, tb.shape];
  if (cond.dtype !== 'bool') throw new ShapeError('Where', shapes, `condition must be bool, got ${cond.dtype}`);
  if (ta.dtype !== tb.dtype) throw new ShapeError('Where', shapes, `dtype mismatch ${ta.dtype} vs ${tb.dtype}`);
  const shape = broadcastShapes(cond.shape, ta.shape, tb.shape);
  if (!shape) throw new ShapeError('Where', shapes, 'shapes do not broadcast');
  return cond.graph.node('Where', [cond, ta, tb], {}, [{ dtype: ta.dtype, shape }])[0]!;
}

export const vjpWhere: VjpRule = ({ node, needs }, [g]) => {
  const [cond, a, b] = node.inputs as [Tensor, Tensor, Tensor];
  return [
    null,
    needs(1) ? unbroadcast(where(cond, g!, 0), a.shape) : null,
    needs(2) ? unbroadcast(where(cond, 0, g!), b.shape) : null,
  ];
};
