// Where a network's weights come from when its graph is built. Model code asks for each parameter by
// its official checkpoint name and shape; the provider answers with a tensor (an initializer inline or
// pointing into a weights file, or a graph input for training) and records what was consumed, so that
// unknown and missing keys are reported by name.
import type { Graph, InitializerData, Tensor } from '../graph/graph.js';
import type { DType } from '../graph/dtype.js';
import { ShapeError } from '../graph/errors.js';

export interface WeightProvider {
  /** The tensor for parameter `name`; throws when it is missing or has another shape. */
  get(g: Graph, name: string, shape: readonly number[]): Tensor;
}

export interface WeightEntry {
  dtype: DType;
  shape: readonly number[];
  data: InitializerData;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class MissingWeightError extends Error {
  constructor(readonly key: string, source: string) {
    super(`weight "${key}" is missing from ${source}; the checkpoint does not match this architecture (check the model config or the file)`);
    this.name = 'MissingWeightError';
  }
}

/** Weights known by name (from a safetensors file, a .pth, or generated), emitted as initializers. */
export class MapWeightProvider implements WeightProvider {
  readonly consumed = new Set<string>();
  private readonly tensors = new Map<Graph, Map<string, Tensor>>();
  constructor(
    readonly entries: ReadonlyMap<string, WeightEntry>,
    readonly source = 'the weights',
  ) {}

  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    let perGraph = this.tensors.get(g);
    if (!perGraph) this.tensors.set(g, (perGraph = new Map()));
    const cached = perGraph.get(name);
    if (cached) return cached;
    const e = this.entries.get(name);
    if (!e) throw new MissingWeightError(name, this.source);
    if (!sameShape(e.shape, shape)) throw new ShapeError('weight', [e.shape, shape], `"${name}" in ${this.source} has shape [${e.shape.join(',')}], the architecture needs [${shape.join(',')}]`);
    this.consumed.add(name);
    const t = g.initializer(name, e.dtype, shape, e.data);
    perGraph.set(name, t);
    return t;
  }

  /** Keys present in the source that no part of the network asked for. */
  unconsumed(): string[] {
    return [...this.entries.keys()].filter((k) => !this.consumed.has(k)).sort();
  }
}

/** Every weight becomes a graph input (used when weights are fed per run, e.g. in training graphs). */
export class InputWeightProvider implements WeightProvider {
  readonly requested = new Map<string, readonly number[]>();
  constructor(readonly dtype: DType = 'float32') {}
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    const existing = g.inputs.find((t) => t.name === name);
    if (existing) {
      if (!sameShape(existing.shape, shape)) throw new ShapeError('weight', [existing.shape, shape], `"${name}" requested with two shapes`);
      return existing;
    }
    this.requested.set(name, shape);
    return g.input(name, this.dtype, shape);
  }
}
