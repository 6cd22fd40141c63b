// What every VAE layer needs while one chunk-step graph is built: the graph, where weights come from,
// whether this is the first chunk of a clip, and the registry of temporal caches.
//
// The Wan2.2 VAE runs causally over time in chunks (wan2.2-ti2v-5b.md §2.3). Each layer that looks at
// earlier frames keeps a few frames of its input from the previous chunk. Here every such cache is an
// explicit graph input ("cache_in.<layer>") and output ("cache_out.<layer>"), so that one ONNX graph is
// one chunk step and the caller carries the caches from one run to the next.
//
// Cache contents (the same rule for every slot, first chunk included):
// - causal conv with temporal kernel 3: the last 2 frames of its causally padded input stream, i.e. the
//   last 2 of concat(previous cache, this chunk's input). After a 1-frame first chunk that is
//   [zeros, frame 0], exactly what the reference's "1 cached frame + 1 zero frame of padding" means.
// - downsample3d time_conv: the last 1 frame of the spatially downsampled stream.
// - upsample3d time_conv: the last 2 frames of its input stream with frame 0 excluded (the reference
//   skips frame 0 via its "Rep" marker), so after the first chunk it is all zeros.
// In 'first' mode there are no cache inputs (the padding is zeros in the graph) but every cache output
// is produced; in 'next' mode every slot is both an input and an output, with identical shapes.
import type { Graph, Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { GraphBuildError } from '../../graph/errors.js';
import type { AttentionImpl } from '../../graph/ops/attention.js';
import { cast } from '../../graph/ops/elementwise.js';
import type { WeightProvider } from '../weight-provider.js';

export type ChunkMode = 'first' | 'next';

/** One temporal cache slot of a chunk-step graph. */
export interface CacheSpec {
  /** The layer that owns it, by its weight prefix (e.g. "encoder.downsamples.0.downsamples.0.residual.2"). */
  key: string;
  /** Graph input name (absent from first-chunk graphs). */
  input: string;
  /** Graph output name. */
  output: string;
  dtype: DType;
  /** [batch, channels, frames, height, width]. */
  shape: readonly number[];
}

export interface VaeBuildOptions {
  /** Attention form for the middle AttentionBlock (default 'naive'; 'fused' for GPU inference). */
  attention?: AttentionImpl;
}

export class VaeContext {
  readonly caches: CacheSpec[] = [];
  private readonly keys = new Set<string>();

  constructor(
    readonly g: Graph,
    readonly provider: WeightProvider,
    readonly mode: ChunkMode,
    readonly dtype: DType,
    readonly opts: VaeBuildOptions = {},
  ) {}

  get first(): boolean {
    return this.mode === 'first';
  }

  /** A weight by its official name, cast to the graph's compute dtype when the provider's differs. */
  param(name: string, shape: readonly number[]): Tensor {
    const t = this.provider.get(this.g, name, shape);
    return t.dtype === this.dtype ? t : cast(t, this.dtype);
  }

  /**
   * Declares cache slot `key` of the given shape. Returns the previous chunk's cache (a graph input)
   * in 'next' mode and null in 'first' mode; `store` must then be called once with the new cache.
   */
  cache(key: string, shape: readonly number[]): { prev: Tensor | null; store: (t: Tensor) => void } {
    if (this.keys.has(key)) throw new GraphBuildError('VaeContext', `cache slot "${key}" declared twice`);
    this.keys.add(key);
    const spec: CacheSpec = { key, input: `cache_in.${key}`, output: `cache_out.${key}`, dtype: this.dtype, shape: [...shape] };
    this.caches.push(spec);
    const prev = this.first ? null : this.g.input(spec.input, this.dtype, shape);
    let stored = false;
    return {
      prev,
      store: (t: Tensor) => {
        if (stored) throw new GraphBuildError('VaeContext', `cache slot "${key}" stored twice`);
        if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
          throw new GraphBuildError('VaeContext', `cache slot "${key}" declared [${shape.join(',')}] but stored [${t.shape.join(',')}]`);
        }
        stored = true;
        this.g.output(t, spec.output);
      },
    };
  }
}
