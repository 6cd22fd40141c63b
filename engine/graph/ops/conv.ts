// Convolution (ONNX Conv) and its adjoint (ConvTranspose) in 1D, 2D and 3D, layout [N, C, spatial...].
// Used by the Wan2.2 VAE (CausalConv3d = explicit front time padding + valid conv, stride-2 Conv2d
// downsampling with pads (0,0,1,1), 1x1 convs) and the speech encoder (Conv1d).
//
// VJPs use standard ops only (ORT's ConvGrad is training-only):
// - dX of Conv is a ConvTranspose with the same attributes and output_padding chosen to restore X's
//   shape; dX of ConvTranspose is a Conv.
// - dW of both is one Conv in which the batch and channel axes are swapped (the ORT/PyTorch trick):
//   the input becomes a batch of Cin/G single-sample images with G*N channels, and the output
//   gradient becomes the kernel, with strides and dilations exchanged.
// - dB is a sum over N and the spatial axes.
// ORT CPU has no float64 Conv/ConvTranspose kernels, so both nodes carry an im2col lowering
// (conv-lowering.ts) that the serializer uses for float64 graphs.
import type { Shape, Tensor } from '../graph.js';
import { int, ints } from '../graph.js';
import { ShapeError } from '../errors.js';
import { isFloat } from '../dtype.js';
import type { VjpRule } from '../vjp-types.js';
import { reduceSum } from './reduce.js';
import { expandTo, reshape, transpose } from './shape.js';
import type { ConvAttrs } from './conv-lowering.js';
import { lowerConv, lowerConvTranspose, readConvAttrs } from './conv-lowering.js';

export interface ConvOptions {
  /** Per spatial axis; default 1. */
  strides?: readonly number[];
  /** ONNX order: all begin pads, then all end pads (e.g. 2D [top, left, bottom, right]); default 0. */
  pads?: readonly number[];
  /** Per spatial axis; default 1. */
  dilations?: readonly number[];
  /** Channel groups; default 1. */
  group?: number;
}

export interface ConvTransposeOptions extends ConvOptions {
  /**
   * Extra size added at the end of each spatial axis; default 0. Must be < stride: ONNX allows up to
   * max(stride, dilation) - 1, but ORT rejects output_padding >= stride at run time, so we refuse it here.
   */
  outputPadding?: readonly number[];
}

const f64 = { when: (n: { inputs: readonly (Tensor | null)[] }) => n.inputs[0]!.dtype === 'float64' };

function shapesOf(x: Tensor, w: Tensor, bias: Tensor | null): Shape[] {
  return bias ? [x.shape, w.shape, bias.shape] : [x.shape, w.shape];
}

/** Validates the common parts of Conv/ConvTranspose and fills in the defaults. */
function resolve(op: string, x: Tensor, w: Tensor, bias: Tensor | null, o: ConvTransposeOptions): ConvAttrs {
  const shapes = shapesOf(x, w, bias);
  const fail = (detail: string): never => {
    throw new ShapeError(op, shapes, detail);
  };
  if (x.rank < 3 || x.rank > 5) fail(`X must be [N, C, spatial...] with 1 to 3 spatial axes, got rank ${x.rank}`);
  if (w.rank !== x.rank) fail(`W must have the same rank as X (${x.rank}), got rank ${w.rank}`);
  if (!isFloat(x.dtype)) fail(`X must be a float tensor, got ${x.dtype}`);
  if (w.dtype !== x.dtype || (bias && bias.dtype !== x.dtype)) fail(`dtype mismatch: X ${x.dtype}, W ${w.dtype}${bias ? `, B ${bias.dtype}` : ''}`);
  const s = x.rank - 2;
  const kernel = w.shape.slice(2);
  const strides = [...(o.strides ?? new Array<number>(s).fill(1))];
  const dilations = [...(o.dilations ?? new Array<number>(s).fill(1))];
  const pads = [...(o.pads ?? new Array<number>(2 * s).fill(0))];
  const outputPadding = [...(o.outputPadding ?? new Array<number>(s).fill(0))];
  const group = o.group ?? 1;
  if (strides.length !== s || strides.some((v) => !Number.isInteger(v) || v < 1)) fail(`strides [${strides.join(',')}] must be ${s} integers >= 1`);
  if (dilations.length !== s || dilations.some((v) => !Number.isInteger(v) || v < 1)) fail(`dilations [${dilations.join(',')}] must be ${s} integers >= 1`);
  if (pads.length !== 2 * s || pads.some((v) => !Number.isInteger(v) || v < 0)) fail(`pads [${pads.join(',')}] must be ${2 * s} integers >= 0 (all begins, then all ends)`);
  if (outputPadding.length !== s || outputPadding.some((v) => !Number.isInteger(v) || v < 0)) fail(`output_padding [${outputPadding.join(',')}] must be ${s} integers >= 0`);
  if (!Number.isInteger(group) || group < 1) fail(`group ${group} must be an integer >= 1`);
  if (kernel.some((k) => k < 1)) fail('kernel dimensions must be >= 1');
  return { kernel, strides, dilations, padsBegin: pads.slice(0, s), padsEnd: pads.slice(s), group, outputPadding };
}

function attrsOf(a: ConvAttrs, transposed: boolean) {
  const base = {
    kernel_shape: ints(a.kernel),
    strides: ints(a.strides),
    pads: ints([...a.padsBegin, ...a.padsEnd]),
    dilations: ints(a.dilations),
    group: int(a.group),
  };
  return transposed ? { ...base, output_padding: ints(a.outputPadding) } : base;
}

/** Spatial output size of Conv along one axis. */
function convOutSize(x: number, k: number, s: number, d: number, pb: number, pe: number): number {
  return Math.floor((x + pb + pe - (d * (k - 1) + 1)) / s) + 1;
}

/**
 * ONNX Conv. x [N, Cin, ...], w [Cout, Cin/group, k...], bias [Cout] or null.
 * Output spatial size: floor((in + padBegin + padEnd - dilation*(k-1) - 1) / stride) + 1.
 */
export function conv(x: Tensor, w: Tensor, bias: Tensor | null, opts: ConvOptions = {}): Tensor {
  const a = resolve('Conv', x, w, bias, opts);
  const shapes = shapesOf(x, w, bias);
  const [n, cin] = [x.shape[0]!, x.shape[1]!];
  const [cout, cg] = [w.shape[0]!, w.shape[1]!];
  if (cin % a.group !== 0 || cout % a.group !== 0) throw new ShapeError('Conv', shapes, `group ${a.group} must divide both input channels ${cin} and output channels ${cout}`);
  if (cg !== cin / a.group) throw new ShapeError('Conv', shapes, `W has ${cg} input channels per group; X has ${cin} channels / group ${a.group} = ${cin / a.group}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new ShapeError('Conv', shapes, `bias must be [${cout}]`);
  // Plain loops, not .map: a throw inside a callback would make "Array.map" the reported caller.
  const spatial: number[] = [];
  for (let j = 0; j < x.rank - 2; j++) {
    const len = x.shape[2 + j]!;
    const eff = a.dilations[j]! * (a.kernel[j]! - 1) + 1;
    const padded = len + a.padsBegin[j]! + a.padsEnd[j]!;
    if (eff > padded) throw new ShapeError('Conv', shapes, `spatial axis ${j}: dilated kernel extent ${eff} is larger than the padded input ${padded}`);
    spatial.push(convOutSize(len, a.kernel[j]!, a.strides[j]!, a.dilations[j]!, a.padsBegin[j]!, a.padsEnd[j]!));
  }
  const inputs = bias ? [x, w, bias] : [x, w];
  return x.graph.node('Conv', inputs, attrsOf(a, false), [{ dtype: x.dtype, shape: [n, cout, ...spatial] }], { lowering: { ...f64, build: lowerConv } })[0]!;
}

/**
 * ONNX ConvTranspose (the adjoint of Conv in its input). x [N, Cin, ...], w [Cin, Cout/group, k...].
 * Output spatial size: stride*(in-1) + output_padding + dilation*(k-1) + 1 - padBegin - padEnd.
 */
export function convTranspose(x: Tensor, w: Tensor, bias: Tensor | null, opts: ConvTransposeOptions = {}): Tensor {
  const a = resolve('ConvTranspose', x, w, bias, opts);
  const shapes = shapesOf(x, w, bias);
  const [n, cin] = [x.shape[0]!, x.shape[1]!];
  if (w.shape[0] !== cin) throw new ShapeError('ConvTranspose', shapes, `W must have X's ${cin} channels on axis 0, has ${w.shape[0]}`);
  if (cin % a.group !== 0) throw new ShapeError('ConvTranspose', shapes, `group ${a.group} must divide the input channels ${cin}`);
  const cout = w.shape[1]! * a.group;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new ShapeError('ConvTranspose', shapes, `bias must be [${cout}]`);
  const spatial: number[] = [];
  for (let j = 0; j < x.rank - 2; j++) {
    const len = x.shape[2 + j]!;
    const [s, d, op] = [a.strides[j]!, a.dilations[j]!, a.outputPadding[j]!];
    if (op >= s) throw new ShapeError('ConvTranspose', shapes, `output_padding ${op} on axis ${j} must be < stride ${s} (ORT rejects larger values)`);
    const out = s * (len - 1) + op + d * (a.kernel[j]! - 1) + 1 - a.padsBegin[j]! - a.padsEnd[j]!;
    if (out < 1) throw new ShapeError('ConvTranspose', shapes, `spatial axis ${j}: pads ${a.padsBegin[j]}+${a.padsEnd[j]} leave an empty output`);
    spatial.push(out);
  }
  const inputs = bias ? [x, w, bias] : [x, w];
  return x.graph.node('ConvTranspose', inputs, attrsOf(a, true), [{ dtype: x.dtype, shape: [n, cout, ...spatial] }], { lowering: { ...f64, build: lowerConvTranspose } })[0]!;
}

// --- VJP helpers --------------------------------------------------------------------------------------

/** Transpose that becomes a Reshape when it only moves size-1 axes (common with N = 1 or G = 1). */
function permute(x: Tensor, perm: readonly number[]): Tensor {
  const moved = perm.filter((p) => x.shape[p] !== 1);
  const kept = moved.every((p, i) => i === 0 || p > moved[i - 1]!);
  return kept ? reshape(x, perm.map((p) => x.shape[p]!)) : transpose(x, perm);
}

/** x[..., :len] along `axis` (an ONNX Slice). */
function sliceAxis(x: Tensor, axis: number, len: number): Tensor {
  if (x.shape[axis] === len) return x;
  const g = x.graph;
  const shape = x.shape.map((d, i) => (i === axis ? len : d));
  return g.node('Slice', [x, g.int64s([0]), g.int64s([len]), g.int64s([axis])], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/**
 * The weight gradient shared by Conv and ConvTranspose:
 *   dW[cb, ca, k] = sum_{n, o} b[n, cb, o] * a[n, grp(cb)*Ca/G + ca, o*stride + k*dilation - padBegin]
 * with a the (conv-)input [N, Ca, A...], b the (conv-)output gradient [N, Cb, B...]; result [Cb, Ca/G, k...].
 * Computed as one Conv: input a as [Ca/G, G*N, A...] (batch Ca/G), kernel b as [Cb, N, B...], group G,
 * stride = dilation and dilation = stride, with A trimmed/padded at the end so exactly k outputs result.
 */
function convWeightGrad(a: Tensor, b: Tensor, kernel: readonly number[], p: ConvAttrs): Tensor {
  const [n, ca] = [a.shape[0]!, a.shape[1]!];
  const cb = b.shape[1]!;
  const G = p.group;
  const cag = ca / G;
  let input = a;
  const padsEnd: number[] = [];
  for (let j = 0; j < kernel.length; j++) {
    // Extent of `a` (from padBegin) that the k taps and B output positions read.
    const need = (kernel[j]! - 1) * p.dilations[j]! + p.strides[j]! * (b.shape[2 + j]! - 1) + 1 - p.padsBegin[j]!;
    // Only padding is ever read on this axis: the weight gets no gradient at all.
    if (need <= 0) return expandTo(a.graph.scalar(0, a.dtype), [cb, cag, ...kernel]);
    const len = a.shape[2 + j]!;
    if (need < len) input = sliceAxis(input, 2 + j, need); // trailing entries the forward never read
    padsEnd.push(Math.max(0, need - len));
  }
  const s = kernel.length;
  const spatialAxes = Array.from({ length: s }, (_, j) => 3 + j);
  const aT = reshape(permute(reshape(input, [n, G, cag, ...input.shape.slice(2)]), [2, 1, 0, ...spatialAxes]), [cag, G * n, ...input.shape.slice(2)]);
  const bT = permute(b, [1, 0, ...spatialAxes.map((x) => x - 1)]);
  const r = conv(aT, bT, null, { strides: p.dilations, dilations: p.strides, pads: [...p.padsBegin, ...padsEnd], group: G });
  return permute(r, [1, 0, ...spatialAxes.map((x) => x - 1)]);
}

/** dBias: sum over batch and spatial axes. */
function biasGrad(g: Tensor): Tensor {
  return reduceSum(g, [0, ...g.shape.slice(2).map((_, j) => 2 + j)]);
}

/** w with every spatial axis reversed (ONNX Slice with step -1). */
function flipSpatial(w: Tensor): Tensor {
  const g = w.graph;
  const axes = w.shape.slice(2).map((_, j) => 2 + j);
  return g.node('Slice', [w, g.int64s(axes.map(() => -1)), g.int64s(axes.map((a) => -(w.shape[a]! + 1))), g.int64s(axes), g.int64s(axes.map(() => -1))], {}, [{ dtype: w.dtype, shape: w.shape }])[0]!;
}

/**
 * dX of a stride-1 Conv as a Conv rather than a ConvTranspose: the kernel reversed in space with its
 * in/out channel axes exchanged within each group, and pads (extent − pad) on each side. Same values;
 * ORT CPU runs ConvTranspose far slower than Conv (ConvTranspose was 63 % of a VAE training step, the
 * forward and weight-gradient Convs 29 %). Null where it does not apply (a stride > 1, or a pad larger
 * than the kernel's extent), and those keep the ConvTranspose.
 */
function stride1InputGrad(gy: Tensor, w: Tensor, p: ConvAttrs): Tensor | null {
  if (p.strides.some((s) => s !== 1)) return null;
  const begin: number[] = [];
  const end: number[] = [];
  for (let j = 0; j < p.kernel.length; j++) {
    const extent = p.dilations[j]! * (p.kernel[j]! - 1);
    if (p.padsBegin[j]! > extent || p.padsEnd[j]! > extent) return null;
    begin.push(extent - p.padsBegin[j]!);
    end.push(extent - p.padsEnd[j]!);
  }
  const G = p.group;
  const [cout, cig] = [w.shape[0]!, w.shape[1]!];
  const k = w.shape.slice(2);
  const spatialAxes = k.map((_, j) => 3 + j);
  const swapped = reshape(permute(reshape(w, [G, cout / G, cig, ...k]), [0, 2, 1, ...spatialAxes]), [G * cig, cout / G, ...k]);
  return conv(gy, flipSpatial(swapped), null, { pads: [...begin, ...end], dilations: p.dilations, group: G });
}

export const vjpConv: VjpRule = ({ node, needs }, [gy]) => {
  const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | null | undefined];
  const p = readConvAttrs(node);
  let dx: Tensor | null = null;
  if (needs(0)) {
    // ConvTranspose of the conv's output size gives stride*(O-1) + extent - pads; output_padding
    // restores the trailing input rows that the last stride step skipped (always < stride).
    const outputPadding = x.shape.slice(2).map((len, j) => {
      const o = gy!.shape[2 + j]!;
      return len - (p.strides[j]! * (o - 1) + p.dilations[j]! * (p.kernel[j]! - 1) + 1 - p.padsBegin[j]! - p.padsEnd[j]!);
    });
    dx = stride1InputGrad(gy!, w, p) ?? convTranspose(gy!, w, null, { strides: p.strides, pads: [...p.padsBegin, ...p.padsEnd], dilations: p.dilations, group: p.group, outputPadding });
  }
  const dw = needs(1) ? convWeightGrad(x, gy!, p.kernel, p) : null;
  const db = b && needs(2) ? biasGrad(gy!) : null;
  return [dx, dw, db];
};

export const vjpConvTranspose: VjpRule = ({ node, needs }, [gy]) => {
  const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | null | undefined];
  const p = readConvAttrs(node);
  let dx: Tensor | null = null;
  if (needs(0)) {
    // With output_padding < stride the Conv's output size is exactly X's: floor((s*(I-1) + op)/s) + 1 = I.
    dx = conv(gy!, w, null, { strides: p.strides, pads: [...p.padsBegin, ...p.padsEnd], dilations: p.dilations, group: p.group });
  }
  // ConvTranspose is Conv's input-adjoint: its output plays the conv input, its input the conv output.
  const dw = needs(1) ? convWeightGrad(gy!, x, p.kernel, p) : null;
  const db = b && needs(2) ? biasGrad(gy!) : null;
  return [dx, dw, db];
};
