// Conv and ConvTranspose rebuilt from primitives that ORT CPU has float64 kernels for (it has no f64
// Conv/ConvTranspose), so float64 gradient checks can run every convolution, forward and backward.
//
// Both are one "gather-matmul" (im2col): the input's spatial axes are flattened, one zero is appended
// as a sentinel, and a precomputed int64 table picks, for every kernel tap and output position, the
// input element it reads (or the sentinel where it reads padding / nothing). Groups become a batch
// axis of the MatMul. The same code serves 1D, 2D and 3D; only the index table depends on the rank.
// The tables are Kt x Ot int64 constants, so this is meant for tests and small graphs, not for speed.
import type { Node, Tensor } from '../graph.js';
import { int } from '../graph.js';
import { GraphBuildError } from '../errors.js';
import { sizeOf } from './broadcast.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './shape.js';

/** Convolution attributes in resolved form (defaults filled in, pads split per side). */
export interface ConvAttrs {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  group: number;
  outputPadding: number[];
}

/** Reads a Conv/ConvTranspose node's attributes; the kernel comes from the weight (input 1). */
export function readConvAttrs(node: Node): ConvAttrs {
  const w = node.inputs[1]!;
  const kernel = w.shape.slice(2);
  const s = kernel.length;
  const ones = new Array<number>(s).fill(1);
  const zeros = new Array<number>(s).fill(0);
  const pads = node.attrInts('pads', [...zeros, ...zeros]);
  return {
    kernel,
    strides: [...node.attrInts('strides', ones)],
    dilations: [...node.attrInts('dilations', ones)],
    padsBegin: pads.slice(0, s),
    padsEnd: pads.slice(s),
    group: node.attrInt('group', 1),
    outputPadding: [...node.attrInts('output_padding', zeros)],
  };
}

/** Row-major enumeration of every index tuple of `shape`. */
function* positions(shape: readonly number[]): Generator<number[]> {
  const total = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    yield idx;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/** Flat (row-major) index of `pos` in `shape`. */
function flat(pos: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let a = 0; a < shape.length; a++) f = f * shape[a]! + pos[a]!;
  return f;
}

/**
 * Index table [Kt, Ot] into the flattened input (sentinel = input size, meaning "zero").
 * `source(k, o)` maps a kernel tap and an output position to an input position, or null.
 */
function indexTable(kernel: readonly number[], out: readonly number[], input: readonly number[], source: (k: number[], o: number[]) => number[] | null): { values: number[]; usesSentinel: boolean } {
  const sentinel = sizeOf(input);
  const values: number[] = [];
  let usesSentinel = false;
  for (const k of positions(kernel)) {
    for (const o of positions(out)) {
      const p = source(k, o);
      const inside = p !== null && p.every((v, a) => v >= 0 && v < input[a]!);
      if (!inside) usesSentinel = true;
      values.push(inside ? flat(p, input) : sentinel);
    }
  }
  return { values, usesSentinel };
}

/**
 * cols = gather(x flattened, table) : [N, C, Kt, Ot] -> [N, G, (C/G)*Kt, Ot]; y = wm @ cols, with wm
 * [G, Cout/G, (C/G)*Kt]; then bias and the output's spatial shape.
 */
function gatherMatmul(x: Tensor, table: { values: number[]; usesSentinel: boolean }, wm: Tensor, bias: Tensor | null, outShape: readonly number[], group: number, kt: number): Tensor {
  const g = x.graph;
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const inner = sizeOf(x.shape.slice(2));
  const ot = sizeOf(outShape.slice(2));
  let xf = reshape(x, [n, c, inner]);
  if (table.usesSentinel) {
    xf = g.node('Pad', [xf, g.int64s([0, 0, 0, 0, 0, 1])], {}, [{ dtype: x.dtype, shape: [n, c, inner + 1] }])[0]!;
  }
  const idx = g.constant('int64', [kt, ot], table.values);
  const cols = g.node('Gather', [xf, idx], { axis: int(2) }, [{ dtype: x.dtype, shape: [n, c, kt, ot] }])[0]!;
  const y = matmul(wm, reshape(cols, [n, group, (c / group) * kt, ot]));
  const out = reshape(y, outShape);
  return bias ? add(out, reshape(bias, [outShape[1]!, ...outShape.slice(2).map(() => 1)])) : out;
}

/** Conv: y[n, co, o] = sum_{ci in group, k} w[co, ci, k] * x[n, ci, o*s + k*d - padBegin]. */
export function lowerConv(inputs: readonly (Tensor | null)[], node: Node): Tensor[] {
  const [x, w, bias] = inputs as [Tensor, Tensor, Tensor | null | undefined];
  if (!x || !w) throw new GraphBuildError('Conv', 'lowering needs X and W');
  const a = readConvAttrs(node);
  const outShape = node.outputs[0]!.shape;
  const inSpatial = x.shape.slice(2);
  const table = indexTable(a.kernel, outShape.slice(2), inSpatial, (k, o) => o.map((v, j) => v * a.strides[j]! + k[j]! * a.dilations[j]! - a.padsBegin[j]!));
  const kt = sizeOf(a.kernel);
  const [cout, cg] = [w.shape[0]!, w.shape[1]!];
  const wm = reshape(w, [a.group, cout / a.group, cg * kt]);
  return [gatherMatmul(x, table, wm, bias ?? null, outShape, a.group, kt)];
}

/**
 * ConvTranspose (the adjoint of Conv in its input): y[n, g*Cog+co, q - padBegin] gets
 * x[n, ci, i] * w[ci, co, k] wherever q = i*s + k*d. Written as a gather: output position y reads,
 * for tap k, input i = (y + padBegin - k*d) / s when that is an integer inside the input.
 */
export function lowerConvTranspose(inputs: readonly (Tensor | null)[], node: Node): Tensor[] {
  const [x, w, bias] = inputs as [Tensor, Tensor, Tensor | null | undefined];
  if (!x || !w) throw new GraphBuildError('ConvTranspose', 'lowering needs X and W');
  const a = readConvAttrs(node);
  const outShape = node.outputs[0]!.shape;
  const inSpatial = x.shape.slice(2);
  const table = indexTable(a.kernel, outShape.slice(2), inSpatial, (k, o) => {
    const p: number[] = [];
    for (let j = 0; j < o.length; j++) {
      const q = o[j]! + a.padsBegin[j]! - k[j]! * a.dilations[j]!;
      if (q < 0 || q % a.strides[j]! !== 0) return null;
      p.push(q / a.strides[j]!);
    }
    return p;
  });
  const kt = sizeOf(a.kernel);
  const [cin, cog] = [w.shape[0]!, w.shape[1]!];
  const cig = cin / a.group;
  // [Cin, Cog, K] -> [G, Cog, Cig*Kt]: per group, the transposed weight matrix.
  const wm = reshape(transpose(reshape(w, [a.group, cig, cog, kt]), [0, 2, 1, 3]), [a.group, cog, cig * kt]);
  return [gatherMatmul(x, table, wm, bias ?? null, outShape, a.group, kt)];
}
