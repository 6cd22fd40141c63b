// Parameters of a graph, and where their values come from.
//
// Training graphs take their trainable parameters as ONE flat fp32 input ("params" [N]) and slice the
// named tensors out of it, so a graph has a handful of inputs (params, m, v, step, lr, data) instead of
// hundreds, the optimizer (optim.ts) is a dozen nodes on one vector, and the gradient of every
// parameter leaves the graph as one flat vector in the same layout.
//
// A ParamLayout is the table name → (shape, offset, init); it is pure JS, so the trainer can
// initialise, save and load the vector without a graph. Model code asks a ParamSource for each
// tensor by name; different sources serve the same code: FlatParams (slices of the flat input),
// InputParams (one graph input each), InitializerParams (inline seeded values, or external data that
// is never read at build time). collectLayout() discovers a layout by running the model code once on
// a scratch graph, so layers can declare parameters where they use them.
import { Graph } from './graph.js';
import type { Shape, Tensor } from './graph.js';
import type { DType } from './dtype.js';
import { BYTES_PER_ELEMENT, allocTyped } from './dtype.js';
import { GraphBuildError, ShapeError, fmtShape } from './errors.js';
import { grad as gradOf } from './autodiff.js';
import { expandTo, reshape } from './ops/shape.js';
import { sameShape, sizeOf } from './ops/broadcast.js';
import { concat, narrow } from './ops/indexing.js';

// --- Initialisers -----------------------------------------------------------------------------------

export type Init =
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number; mean?: number }
  | { kind: 'uniform'; bound: number };

export const zerosInit: Init = { kind: 'zeros' };
export const onesInit: Init = { kind: 'constant', value: 1 };
export const constantInit = (value: number): Init => ({ kind: 'constant', value });
export const normalInit = (std: number, mean = 0): Init => ({ kind: 'normal', std, mean });
export const uniformInit = (bound: number): Init => ({ kind: 'uniform', bound });
/** PyTorch nn.Linear / PEFT lora_A default: kaiming_uniform(a=√5) = U(±1/√fan_in). */
export const linearInit = (fanIn: number): Init => uniformInit(1 / Math.sqrt(fanIn));

/** FNV-1a of a string: gives each parameter its own stream, so adding one does not reseed the rest. */
function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: small, fast, seedable; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` according to `init`, deterministically from (seed, name). */
export function fillInit(out: Float32Array | Float64Array, init: Init, seed: number, name: string): void {
  switch (init.kind) {
    case 'zeros':
      out.fill(0);
      return;
    case 'constant':
      out.fill(init.value);
      return;
    case 'uniform': {
      const rnd = seededRandom(hashName(name) ^ Math.imul(seed + 1, 0x9e3779b1));
      for (let i = 0; i < out.length; i++) out[i] = (2 * rnd() - 1) * init.bound;
      return;
    }
    case 'normal': {
      const rnd = seededRandom(hashName(name) ^ Math.imul(seed + 1, 0x9e3779b1));
      const mean = init.mean ?? 0;
      // Box–Muller, two values per pair of uniforms.
      for (let i = 0; i < out.length; i += 2) {
        const u1 = 1 - rnd();
        const u2 = rnd();
        const r = Math.sqrt(-2 * Math.log(u1)) * init.std;
        out[i] = mean + r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(2 * Math.PI * u2);
      }
      return;
    }
  }
}

// --- Layout -----------------------------------------------------------------------------------------

export interface ParamEntry {
  readonly name: string;
  readonly shape: Shape;
  readonly size: number;
  /** Offset (in elements) of this tensor in the flat vector. */
  readonly offset: number;
  readonly init: Init;
}

export class ParamLayout {
  private readonly list: ParamEntry[] = [];
  private readonly byName = new Map<string, ParamEntry>();
  private total = 0;

  get entries(): readonly ParamEntry[] {
    return this.list;
  }
  /** Number of scalars in the flat vector. */
  get size(): number {
    return this.total;
  }

  add(name: string, shape: Shape, init: Init = zerosInit): ParamEntry {
    if (this.byName.has(name)) throw new GraphBuildError('ParamLayout', `parameter "${name}" declared twice`);
    if (shape.some((d) => !Number.isInteger(d) || d <= 0)) throw new ShapeError('ParamLayout', [shape], `parameter "${name}" needs positive dimensions`);
    const e: ParamEntry = { name, shape: [...shape], size: sizeOf(shape), offset: this.total, init };
    this.list.push(e);
    this.byName.set(name, e);
    this.total += e.size;
    return e;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new GraphBuildError('ParamLayout', `no parameter "${name}" in the layout (${this.list.length} entries)`);
    return e;
  }

  /** A fresh flat vector with every entry initialised from its Init (deterministic in `seed`). */
  initialize(seed = 0): Float32Array {
    const out = new Float32Array(this.total);
    for (const e of this.list) fillInit(out.subarray(e.offset, e.offset + e.size), e.init, seed, e.name);
    return out;
  }

  /**
   * The same parameters reordered so that matrices with the same number of columns are adjacent
   * (in order of first appearance; other shapes follow in their own order). FlatParams cuts such a
   * run as one [rows, cols] view, so each matrix is a single Slice and its gradient needs no Reshape:
   * about two fewer nodes per matrix, which shortens session creation of deep training graphs. The
   * flat vector's order changes; names, shapes and inits do not.
   */
  grouped(): ParamLayout {
    const order: ParamEntry[] = [];
    const cols = new Map<number, ParamEntry[]>();
    const rest: ParamEntry[] = [];
    for (const e of this.list) {
      if (e.shape.length !== 2) {
        rest.push(e);
        continue;
      }
      const k = e.shape[1]!;
      const run = cols.get(k);
      if (run) run.push(e);
      else cols.set(k, [e]);
    }
    for (const run of cols.values()) order.push(...run);
    order.push(...rest);
    const out = new ParamLayout();
    for (const e of order) out.add(e.name, e.shape, e.init);
    return out;
  }

  /**
   * Maximal runs of consecutive 2-D entries with the same column count: [first index, count, cols].
   * Runs of one are included (a single matrix is cut with one Slice + Reshape either way).
   */
  matrixRuns(): { start: number; count: number; cols: number }[] {
    const runs: { start: number; count: number; cols: number }[] = [];
    for (let i = 0; i < this.list.length; i++) {
      const e = this.list[i]!;
      if (e.shape.length !== 2) continue;
      const last = runs[runs.length - 1];
      if (last && last.start + last.count === i && last.cols === e.shape[1]) last.count++;
      else runs.push({ start: i, count: 1, cols: e.shape[1]! });
    }
    return runs;
  }

  /** The slice of a flat vector that holds `name` (a view, not a copy). */
  view<T extends Float32Array | Float64Array>(flat: T, name: string): T {
    if (flat.length !== this.total) throw new ShapeError('ParamLayout.view', [[flat.length]], `flat vector has ${flat.length} values, layout needs ${this.total}`);
    const e = this.entry(name);
    return flat.subarray(e.offset, e.offset + e.size) as T;
  }
}

// --- Sources ----------------------------------------------------------------------------------------

/** Where model code gets a named parameter tensor. `init` is used by sources that create values. */
export interface ParamSource {
  readonly graph: Graph;
  readonly dtype: DType;
  param(name: string, shape: Shape, init?: Init): Tensor;
}

function checkRequest(op: string, name: string, want: Shape, have: Shape): void {
  if (!sameShape(want, have)) throw new ShapeError(op, [want, have], `parameter "${name}" requested as ${fmtShape(want)} but declared as ${fmtShape(have)}`);
}

/**
 * Trainable parameters as slices of one flat input: each tensor is one Slice (+ Reshape), made when
 * first requested; runs of matrices with equal column counts (see ParamLayout.grouped) share one
 * [rows, cols] view and are then one Slice each. `gradient(loss)` returns d loss / d params as one flat vector in the layout's order.
 *
 * WebGPU caps the storage buffers one shader may bind (16 on lavapipe, 8 guaranteed by the spec), and
 * ORT's WebGPU Split/Concat bind every part at once, so a 600-way Split or Concat fails there. Slices
 * avoid Split altogether; the gradient Concat is a tree of at most `maxFanIn` inputs per node.
 */
export class FlatParams implements ParamSource {
  readonly dtype: DType;
  private readonly shaped = new Map<string, Tensor>();
  /** For entries inside a matrix run: the run (index into runs) and the entry's first row in it. */
  private readonly inRun = new Map<string, { run: number; row: number }>();
  private readonly runs: { start: number; count: number; cols: number; rows: number }[];
  private readonly runViews = new Map<number, Tensor>();

  private constructor(
    readonly graph: Graph,
    readonly layout: ParamLayout,
    /** The flat [N] input (or any [N] tensor) the parameters are cut from. */
    readonly flat: Tensor,
    /** Widest Concat the gradient uses (7 inputs + 1 output fit WebGPU's guaranteed 8 buffers). */
    readonly maxFanIn: number,
  ) {
    this.dtype = flat.dtype;
    const entries = layout.entries;
    // Only runs of two or more matrices gain from a shared view.
    this.runs = layout
      .matrixRuns()
      .filter((r) => r.count > 1)
      .map((r) => ({ ...r, rows: entries.slice(r.start, r.start + r.count).reduce((n, e) => n + e.shape[0]!, 0) }));
    this.runs.forEach((r, ri) => {
      let row = 0;
      for (const e of entries.slice(r.start, r.start + r.count)) {
        this.inRun.set(e.name, { run: ri, row });
        row += e.shape[0]!;
      }
    });
  }

  /** Declares the flat input `name` [layout.size] (or uses `flat`, e.g. the output of an EMA). */
  static bind(g: Graph, layout: ParamLayout, opts: { name?: string; dtype?: DType; flat?: Tensor; maxFanIn?: number } = {}): FlatParams {
    if (layout.size === 0) throw new GraphBuildError('FlatParams', 'the layout is empty');
    const flat = opts.flat ?? g.input(opts.name ?? 'params', opts.dtype ?? 'float32', [layout.size]);
    if (!sameShape(flat.shape, [layout.size])) throw new ShapeError('FlatParams', [flat.shape], `flat vector must be [${layout.size}]`);
    const fanIn = opts.maxFanIn ?? 7;
    if (!(fanIn >= 2)) throw new GraphBuildError('FlatParams', `maxFanIn must be at least 2, got ${fanIn}`);
    return new FlatParams(g, layout, flat, fanIn);
  }

  /** The [rows, cols] view of a matrix run (one Slice + one Reshape, made on first use). */
  private runView(ri: number): Tensor {
    let v = this.runViews.get(ri);
    if (!v) {
      const r = this.runs[ri]!;
      const offset = this.layout.entries[r.start]!.offset;
      v = reshape(narrow(this.flat, 0, offset, r.rows * r.cols), [r.rows, r.cols]);
      this.runViews.set(ri, v);
    }
    return v;
  }

  param(name: string, shape: Shape): Tensor {
    const e = this.layout.entry(name);
    checkRequest('FlatParams', name, shape, e.shape);
    let t = this.shaped.get(name);
    if (!t) {
      const where = this.inRun.get(name);
      t = where ? narrow(this.runView(where.run), 0, where.row, e.shape[0]!) : reshape(narrow(this.flat, 0, e.offset, e.size), e.shape);
      this.shaped.set(name, t);
    }
    return t;
  }

  /** Every parameter tensor requested so far, by name. */
  requested(): ReadonlyMap<string, Tensor> {
    return this.shaped;
  }

  /**
   * d loss / d params, flat [N]. Autodiff stops at the sliced tensors, so no Slice backward (a Pad
   * to the full length per tensor) is built; Concat trees assemble the pieces instead: matrices of
   * a run are joined along their rows (no Reshape each), then every piece along the flat axis.
   * Entries the loss never used get zeros.
   */
  gradient(loss: Tensor): Tensor {
    const entries = this.layout.entries;
    const used = entries.filter((e) => this.shaped.has(e.name));
    const grads = gradOf(loss, used.map((e) => this.shaped.get(e.name)!));
    const byName = new Map<string, Tensor>(used.map((e, i) => [e.name, grads[i]!]));
    const gradOfEntry = (e: ParamEntry): Tensor => byName.get(e.name) ?? expandTo(this.graph.scalar(0, this.dtype), e.shape);
    const pieces: Tensor[] = [];
    for (let i = 0; i < entries.length; ) {
      const e = entries[i]!;
      const where = this.inRun.get(e.name);
      if (where && where.row === 0) {
        const r = this.runs[where.run]!;
        const run = entries.slice(i, i + r.count).map(gradOfEntry);
        pieces.push(reshape(concatTree(run, this.maxFanIn, 0), [r.rows * r.cols]));
        i += r.count;
      } else {
        pieces.push(reshape(gradOfEntry(e), [e.size]));
        i++;
      }
    }
    return concatTree(pieces, this.maxFanIn, 0);
  }
}

/** Concatenates along `axis` with Concat nodes of at most `fanIn` inputs each (a balanced tree). */
export function concatTree(pieces: readonly Tensor[], fanIn: number, axis = 0): Tensor {
  let level = [...pieces];
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += fanIn) next.push(concat(level.slice(i, i + fanIn), axis));
    level = next;
  }
  const [only] = level;
  if (!only) throw new GraphBuildError('concatTree', 'nothing to concatenate');
  return only;
}

/** Each parameter is its own graph input, named exactly as the parameter (feeds by name). */
export class InputParams implements ParamSource {
  private readonly made = new Map<string, Tensor>();
  constructor(
    readonly graph: Graph,
    readonly dtype: DType = 'float32',
  ) {}
  param(name: string, shape: Shape): Tensor {
    const have = this.made.get(name);
    if (have) {
      checkRequest('InputParams', name, shape, have.shape);
      return have;
    }
    const t = this.graph.input(name, this.dtype, shape);
    this.made.set(name, t);
    return t;
  }
  get tensors(): ReadonlyMap<string, Tensor> {
    return this.made;
  }
}

/**
 * Each parameter is an initializer: inline values drawn from its Init (seeded; tests and small
 * frozen models), or, with `external`, a reference into a weights file laid out in request order
 * that is never touched at build time (large models: nothing is allocated).
 */
export class InitializerParams implements ParamSource {
  private readonly made = new Map<string, Tensor>();
  private offset = 0;
  constructor(
    readonly graph: Graph,
    readonly dtype: DType = 'float32',
    private readonly opts: { seed?: number; external?: string } = {},
  ) {}
  param(name: string, shape: Shape, init: Init = zerosInit): Tensor {
    const have = this.made.get(name);
    if (have) {
      checkRequest('InitializerParams', name, shape, have.shape);
      return have;
    }
    let t: Tensor;
    if (this.opts.external) {
      const length = sizeOf(shape) * BYTES_PER_ELEMENT[this.dtype];
      t = this.graph.initializer(name, this.dtype, shape, { kind: 'external', location: this.opts.external, offset: this.offset, length });
      this.offset += length;
    } else {
      if (this.dtype !== 'float32' && this.dtype !== 'float64') throw new GraphBuildError('InitializerParams', `inline initialisation supports float32/float64, not ${this.dtype}`);
      const data = allocTyped(this.dtype, sizeOf(shape)) as Float32Array | Float64Array;
      fillInit(data, init, this.opts.seed ?? 0, name);
      t = this.graph.initializer(name, this.dtype, shape, { kind: 'inline', data });
    }
    this.made.set(name, t);
    return t;
  }
  /** Bytes an external weights file must have for the parameters requested so far. */
  get externalBytes(): number {
    return this.offset;
  }
}

/**
 * Records every parameter the model code asks for, in order, into a ParamLayout. The code runs
 * once on a scratch graph (parameters become inputs there), so layers declare parameters where
 * they use them and the flat vector's size is known before the real graph is built.
 */
export class LayoutCollector implements ParamSource {
  readonly layout = new ParamLayout();
  private readonly inputs: InputParams;
  constructor(
    readonly graph: Graph,
    readonly dtype: DType = 'float32',
  ) {
    this.inputs = new InputParams(graph, dtype);
  }
  param(name: string, shape: Shape, init: Init = zerosInit): Tensor {
    if (this.layout.has(name)) checkRequest('LayoutCollector', name, shape, this.layout.entry(name).shape);
    else this.layout.add(name, shape, init);
    return this.inputs.param(name, shape);
  }
}

/** Runs `build` on a scratch graph with a collecting source and returns the layout it declared. */
export function collectLayout(build: (g: Graph, trainable: ParamSource) => void, dtype: DType = 'float32'): ParamLayout {
  const g = new Graph('layout');
  const c = new LayoutCollector(g, dtype);
  build(g, c);
  return c.layout;
}
