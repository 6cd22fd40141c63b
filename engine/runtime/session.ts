// A compiled graph: an ORT session plus the static shapes of its inputs and outputs, so callers feed
// and read plain typed arrays. Backend choice and fallback live in backends.ts.
import type { InferenceSession } from 'onnxruntime-node';
import type { AnyTypedArray, DType } from '../graph/dtype.js';
import type { Graph, Tensor } from '../graph/graph.js';
import { serialize } from '../graph/onnx/serialize.js';
import type { SerializeOptions } from '../graph/onnx/serialize.js';
import { ort } from './ort.js';

export type Backend = 'cuda' | 'webgpu' | 'cpu';

export interface SessionOptions {
  backend?: Backend;
  /** ORT graph optimisation level; 'basic' keeps training graphs quick to open. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Turn off common-subexpression elimination (blockwise attention recompute needs this). */
  disableCse?: boolean;
  intraOpThreads?: number;
  /** With webgpu: fail instead of silently placing unsupported nodes on the CPU. */
  disableCpuFallback?: boolean;
  /**
   * ORT's memory-pattern planner. It roughly doubles the peak of training graphs (blockwise attention
   * at 16k tokens: 0.51 GB off vs 0.95 GB on), so training sessions turn it off.
   */
  memPattern?: boolean;
}

export interface IoSpec {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

export type Feeds = Record<string, AnyTypedArray>;
export type Fetches = Record<string, AnyTypedArray>;

export function sessionOptions(o: SessionOptions): InferenceSession.SessionOptions {
  const backend = o.backend ?? 'cpu';
  const extra: Record<string, Record<string, string>> = {};
  if (o.disableCse) extra.optimization = { disable_specified_optimizers: 'CommonSubexpressionElimination' };
  // Only meaningful for a GPU backend: on the cpu backend ORT would reject every node.
  if (o.disableCpuFallback && backend !== 'cpu') extra.session = { disable_cpu_ep_fallback: '1' };
  return {
    executionProviders: [backend],
    graphOptimizationLevel: o.optimization ?? 'all',
    intraOpNumThreads: o.intraOpThreads ?? 0,
    enableMemPattern: o.memPattern ?? true,
    extra,
  } as InferenceSession.SessionOptions;
}

export class CompiledGraph {
  private constructor(
    readonly session: InferenceSession,
    readonly inputs: readonly IoSpec[],
    readonly outputs: readonly IoSpec[],
    readonly backend: Backend,
  ) {}

  static async fromGraph(g: Graph, opts: SessionOptions & SerializeOptions = {}): Promise<CompiledGraph> {
    const outputs = opts.outputs ?? g.outputs;
    const bytes = serialize(g, { ...opts, outputs });
    return CompiledGraph.fromBytes(bytes, g.inputs, outputs, opts);
  }

  static async fromBytes(bytes: Uint8Array | string, inputs: readonly Tensor[] | readonly IoSpec[], outputs: readonly Tensor[] | readonly IoSpec[], opts: SessionOptions = {}): Promise<CompiledGraph> {
    const O = ort();
    const so = sessionOptions(opts);
    const session = typeof bytes === 'string' ? await O.InferenceSession.create(bytes, so) : await O.InferenceSession.create(bytes, so);
    const spec = (t: Tensor | IoSpec): IoSpec => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] });
    return new CompiledGraph(session, inputs.map(spec), outputs.map(spec), opts.backend ?? 'cpu');
  }

  async run(feeds: Feeds): Promise<Fetches> {
    const O = ort();
    const ortFeeds: Record<string, InstanceType<typeof O.Tensor>> = {};
    for (const io of this.inputs) {
      const data = feeds[io.name];
      if (!data) throw new Error(`missing feed "${io.name}" (${io.dtype}[${io.shape.join(',')}])`);
      const size = io.shape.reduce((a, b) => a * b, 1);
      if (data.length !== size) throw new Error(`feed "${io.name}" has ${data.length} values; shape [${io.shape.join(',')}] needs ${size}`);
      ortFeeds[io.name] = new O.Tensor(io.dtype, data as never, [...io.shape]);
    }
    const result = await this.session.run(ortFeeds);
    const out: Fetches = {};
    for (const io of this.outputs) out[io.name] = result[io.name]!.data as AnyTypedArray;
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
