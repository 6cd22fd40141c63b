// The graph language's core: symbolic tensors with static shapes, nodes that are ONNX ops, and a
// builder that records them in topological order. Op families (ops/*.ts) add shape-checked
// functions on top; autodiff.ts differentiates the recorded nodes; onnx/serialize.ts emits ONNX.
import type { AnyTypedArray, DType } from './dtype.js';
import { BYTES_PER_ELEMENT, allocTyped } from './dtype.js';
import { GraphBuildError, ShapeError } from './errors.js';
import { f32ToF16Bits } from './half.js';

export type Shape = readonly number[];

/** ONNX attribute values, tagged so that ints and floats stay distinct in the proto. */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };
export const int = (value: number): Attr => ({ kind: 'int', value });
export const float = (value: number): Attr => ({ kind: 'float', value });
export const ints = (value: readonly number[]): Attr => ({ kind: 'ints', value });
export const floats = (value: readonly number[]): Attr => ({ kind: 'floats', value });
export const str = (value: string): Attr => ({ kind: 'string', value });
export type Attrs = Readonly<Record<string, Attr>>;

/** Where an initializer's bytes live: inline in the graph, or in a file next to the model. */
export type InitializerData =
  | { kind: 'inline'; data: AnyTypedArray }
  | { kind: 'external'; location: string; offset: number; length: number };

export type TensorKind = 'input' | 'initializer' | 'node';

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: TensorKind,
    /** The node that produces it (null for inputs and initializers). */
    readonly producer: Node | null,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  toString(): string {
    return `${this.name}:${this.dtype}[${this.shape.join(',')}]`;
  }
}

/**
 * A composite node (a fused op such as LayerNormalization) can carry a lowering into primitive
 * ops. The serializer uses it where the fused kernel is missing, e.g. for float64 gradient checks
 * on CPU. The lowering is built lazily, at emission time, so normal graphs pay nothing.
 */
export type Lowering = (inputs: readonly (Tensor | null)[], node: Node) => Tensor[];

export class Node {
  constructor(
    readonly id: number,
    readonly opType: string,
    readonly domain: string,
    readonly inputs: readonly (Tensor | null)[],
    readonly outputs: Tensor[],
    readonly attrs: Attrs,
    readonly name: string,
    readonly lowering: { when: (node: Node) => boolean; build: Lowering } | null,
  ) {}
  attrInt(name: string, fallback?: number): number {
    const a = this.attrs[name];
    if (a && (a.kind === 'int' || a.kind === 'float')) return a.value;
    if (fallback !== undefined) return fallback;
    throw new GraphBuildError(this.opType, `missing attribute ${name}`);
  }
  attrInts(name: string, fallback?: readonly number[]): readonly number[] {
    const a = this.attrs[name];
    if (a && (a.kind === 'ints' || a.kind === 'floats')) return a.value;
    if (fallback !== undefined) return fallback;
    throw new GraphBuildError(this.opType, `missing attribute ${name}`);
  }
  attrFloat(name: string, fallback?: number): number {
    return this.attrInt(name, fallback);
  }
  attrString(name: string, fallback?: string): string {
    const a = this.attrs[name];
    if (a && a.kind === 'string') return a.value;
    if (fallback !== undefined) return fallback;
    throw new GraphBuildError(this.opType, `missing attribute ${name}`);
  }
}

export interface OutputSpec {
  dtype: DType;
  shape: Shape;
}

export interface NodeOptions {
  domain?: string;
  lowering?: { when: (node: Node) => boolean; build: Lowering };
}

function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new GraphBuildError(what, `invalid dimension ${d} in shape [${shape.join(',')}]`);
  }
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly initializers = new Map<Tensor, InitializerData>();
  readonly outputs: Tensor[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();
  private readonly scopes: string[] = [];
  private readonly constCache = new Map<string, Tensor>();
  /** When set, new nodes go here instead of `nodes` (used to build lowerings at emission time). */
  private recording: Node[] | null = null;

  constructor(readonly name = 'refree') {}

  /** Names nodes and initializers created inside `fn` with a dotted prefix, e.g. "blocks.3.self_attn". */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private uniqueName(base: string): string {
    const full = [...this.scopes, base].join('.');
    if (!this.names.has(full)) {
      this.names.add(full);
      return full;
    }
    // Resume from the last suffix handed out for this base: names are never released, so every
    // smaller suffix is still taken, and scanning from 1 made building a 15k-node graph quadratic.
    for (let i = this.nextSuffix.get(full) ?? 1; ; i++) {
      const candidate = `${full}_${i}`;
      if (!this.names.has(candidate)) {
        this.names.add(candidate);
        this.nextSuffix.set(full, i + 1);
        return candidate;
      }
    }
  }

  private newTensor(name: string, dtype: DType, shape: Shape, kind: TensorKind, producer: Node | null, exactName = false): Tensor {
    checkShape(shape, name);
    let finalName = name;
    if (exactName) {
      if (this.names.has(name)) throw new GraphBuildError('Graph', `duplicate tensor name "${name}"`);
      this.names.add(name);
    } else finalName = this.uniqueName(name);
    return new Tensor(this, this.nextId++, finalName, dtype, [...shape], kind, producer);
  }

  /** A graph input fed at run time. Its name is used exactly as given (it is the feed key). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = this.newTensor(name, dtype, shape, 'input', null, true);
    this.inputs.push(t);
    return t;
  }

  /** A named constant stored with the model (weights). Names are used exactly (they are weight keys). */
  initializer(name: string, dtype: DType, shape: Shape, data: InitializerData): Tensor {
    const t = this.newTensor(name, dtype, shape, 'initializer', null, true);
    if (data.kind === 'inline') {
      const expected = t.size;
      if (data.data.length !== expected) {
        throw new ShapeError('initializer', [shape], `"${name}" has ${data.data.length} values, shape needs ${expected}`);
      }
    } else if (data.length !== t.size * BYTES_PER_ELEMENT[dtype]) {
      throw new ShapeError('initializer', [shape], `"${name}" external length ${data.length} bytes, ${dtype} shape needs ${t.size * BYTES_PER_ELEMENT[dtype]}`);
    }
    this.initializers.set(t, data);
    return t;
  }

  /** An anonymous inline constant; identical small constants are shared. */
  constant(dtype: DType, shape: Shape, values: ArrayLike<number> | ArrayLike<bigint>): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new ShapeError('constant', [shape], `${values.length} values given`);
    const key = size <= 64 ? `${dtype}|${shape.join(',')}|${Array.from(values as ArrayLike<number>).join(',')}` : null;
    if (key && this.constCache.has(key)) return this.constCache.get(key)!;
    const data = allocTyped(dtype, size);
    if (data instanceof BigInt64Array) for (let i = 0; i < size; i++) data[i] = BigInt(values[i] as number | bigint);
    else if (dtype === 'float16') for (let i = 0; i < size; i++) data[i] = f32ToF16Bits(Number(values[i]));
    else for (let i = 0; i < size; i++) (data as Float64Array)[i] = Number(values[i]);
    const t = this.newTensor('const', dtype, shape, 'initializer', null);
    this.initializers.set(t, { kind: 'inline', data });
    if (key) this.constCache.set(key, t);
    return t;
  }

  scalar(value: number, dtype: DType): Tensor {
    return this.constant(dtype, [], [value]);
  }

  /** An int64 vector constant: Reshape shapes, Slice starts, reduction axes. */
  int64s(values: readonly number[]): Tensor {
    return this.constant('int64', [values.length], values);
  }

  /** Records one ONNX node. Op functions compute the output specs (shape inference) before calling this. */
  node(opType: string, inputs: readonly (Tensor | null)[], attrs: Attrs, outputSpecs: readonly OutputSpec[], opts: NodeOptions = {}): Tensor[] {
    for (const t of inputs) {
      if (t && t.graph !== this) throw new GraphBuildError(opType, `input ${t.name} belongs to another graph`);
    }
    const name = this.uniqueName(opType);
    const outputs: Tensor[] = [];
    const node = new Node(this.nextId++, opType, opts.domain ?? '', inputs, outputs, attrs, name, opts.lowering ?? null);
    outputSpecs.forEach((spec, i) => {
      outputs.push(this.newTensor(`${name}:${i}`, spec.dtype, spec.shape, 'node', node, true));
    });
    (this.recording ?? this.nodes).push(node);
    return outputs;
  }

  /** Runs `fn` while capturing the nodes it creates into a separate list (for lowerings). */
  record<T>(fn: () => T): { result: T; nodes: Node[] } {
    const prev = this.recording;
    const nodes: Node[] = [];
    this.recording = nodes;
    try {
      return { result: fn(), nodes };
    } finally {
      this.recording = prev;
    }
  }

  output(t: Tensor, name?: string): Tensor {
    if (t.graph !== this) throw new GraphBuildError('output', `tensor ${t.name} belongs to another graph`);
    this.outputs.push(name ? this.alias(t, name) : t);
    return this.outputs[this.outputs.length - 1]!;
  }

  /** A named copy (Identity) so that an output can carry a stable name. */
  alias(t: Tensor, name: string): Tensor {
    const node = new Node(this.nextId++, 'Identity', '', [t], [], {}, this.uniqueName('Identity'), null);
    const out = this.newTensor(name, t.dtype, t.shape, 'node', node, true);
    node.outputs.push(out);
    (this.recording ?? this.nodes).push(node);
    return out;
  }

  inlineData(t: Tensor): AnyTypedArray | null {
    const d = this.initializers.get(t);
    return d?.kind === 'inline' ? d.data : null;
  }
}
