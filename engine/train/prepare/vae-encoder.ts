// The package's VAE encoder fed a clip chunk by chunk as frames arrive (1 frame first, then `stride`
// frames per latent frame, wan2.2-ti2v-5b.md §2.3), with the causal caches each chunk graph outputs fed
// to the next run: the clip never has to be held in memory whole, only one chunk of pixels and the
// latents. Graphs are compiled into the package's engine cache as VaeStream does; one session is alive
// at a time (the first-chunk session is released before the later-chunk one opens), and both stay
// compiled on disk for the next clip of the same size.
import { f16ToF32, f32ToF16 } from '../../graph/half.js';
import type { AnyTypedArray } from '../../graph/dtype.js';
import { vaeParams } from '../../model/inventory/vae.js';
import { bucketName, compileInCache } from '../../model/package/engine-cache.js';
import { componentWeights } from '../../model/run/common.js';
import type { VaeChunkGraph } from '../../model/vae/encoder.js';
import { encodeChunkGraph } from '../../model/vae/encoder.js';
import { latentSize, temporalFactor } from '../../model/vae/geometry.js';
import type { GenerationModel } from '../../pipeline/model.js';
import type { CompiledGraph, Feeds } from '../../runtime/session.js';

type Variant = 'encode-first' | 'encode-next';

export class StreamingVaeEncoder {
  private session: { v: Variant; compiled: CompiledGraph; built: VaeChunkGraph } | null = null;
  private caches: Feeds | null = null;
  private count = 0;
  readonly h: number;
  readonly w: number;
  readonly stride: number;

  private constructor(
    private readonly m: GenerationModel,
    private readonly weights: Awaited<ReturnType<typeof componentWeights>>,
    readonly size: number,
  ) {
    const lat = latentSize(m.src.arch.vae, size, size);
    this.h = lat.height;
    this.w = lat.width;
    this.stride = temporalFactor(m.src.arch.vae);
  }

  static async open(m: GenerationModel, size: number): Promise<StreamingVaeEncoder> {
    latentSize(m.src.arch.vae, size, size);
    const weights = await componentWeights(m.src, 'vae', vaeParams(m.src.arch.vae), m.dtype, {});
    return new StreamingVaeEncoder(m, weights, size);
  }

  /** Starts a new clip (the caches of the previous one are dropped). */
  reset(): void {
    this.caches = null;
    this.count = 0;
  }

  /** Latent frames encoded so far in this clip. */
  get encoded(): number {
    return this.count;
  }

  private async open(v: Variant): Promise<{ compiled: CompiledGraph; built: VaeChunkGraph }> {
    if (this.session?.v === v) return this.session;
    if (this.session) await this.session.compiled.release();
    this.session = null;
    const cfg = this.m.src.arch.vae;
    const built = encodeChunkGraph(cfg, this.weights.provider, { first: v === 'encode-first', frames: v === 'encode-first' ? 1 : this.stride, height: this.size, width: this.size, batch: 1, attention: 'naive' });
    const stem = `${this.m.backend}.vae-${v}.${bucketName({ b: 1, h: this.size, w: this.size })}.naive`;
    const opened = await compileInCache(built.graph, this.weights.dir, stem, { prefer: this.m.backend, fallback: false });
    this.session = { v, compiled: opened.session, built };
    return this.session;
  }

  /**
   * Normalised latent [C, 1, h, w] of the next chunk: pixels [3, n, H, W] in [−1, 1] with n = 1 for the
   * clip's first chunk and n = stride after.
   */
  async encodeChunk(pixels: Float32Array): Promise<Float32Array> {
    const v: Variant = this.count === 0 ? 'encode-first' : 'encode-next';
    const n = v === 'encode-first' ? 1 : this.stride;
    if (pixels.length !== 3 * n * this.size * this.size) throw new RangeError(`VAE chunk ${this.count} needs ${n} frame(s) of ${this.size}×${this.size}, got ${pixels.length} values`);
    const { compiled, built } = await this.open(v);
    const feeds: Feeds = { [built.input.name]: toDtype(pixels, this.m.dtype) };
    if (this.caches) for (const c of built.caches) feeds[c.input] = this.caches[c.output]!;
    const r = await compiled.run(feeds);
    const next: Feeds = {};
    for (const c of built.caches) next[c.output] = r[c.output]!;
    this.caches = next;
    this.count++;
    return fromOut(r[built.output.name]!);
  }

  async release(): Promise<void> {
    if (this.session) await this.session.compiled.release();
    this.session = null;
    this.caches = null;
  }
}

const toDtype = (a: Float32Array, dtype: GenerationModel['dtype']): AnyTypedArray => (dtype === 'float32' ? a : f32ToF16(a).data);
const fromOut = (a: AnyTypedArray): Float32Array => (a instanceof Float32Array ? a : f16ToF32(a as Uint16Array));
