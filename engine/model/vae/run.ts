// Runs the Wan2.2 VAE over a whole clip chunk by chunk, as the reference does (wan2.2-ti2v-5b.md §2.3):
// encode = pixel frame 0, then 4 frames per chunk (one latent frame each); decode = one latent frame per
// chunk (1 pixel frame first, 4 after). Each chunk is one run of a chunk-step graph; the caches that
// graph outputs are fed back as the next run's cache inputs.
//
// Sessions: the first-chunk and later-chunk graphs hold the same weights, and each ORT session keeps
// its own copy, so by default only one session is alive at a time (DESIGN 2, "GPU memory is planned").
// `keepSessions` trades that memory for not recompiling on every clip (tests, repeated small runs).
import type { Graph } from '../../graph/graph.js';
import type { SerializeOptions } from '../../graph/onnx/serialize.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { Feeds, SessionOptions } from '../../runtime/session.js';
import type { VaeConfig } from '../config.js';
import type { WeightProvider } from '../weight-provider.js';
import type { VaeBuildOptions } from './context.js';
import { decodeChunkGraph } from './decoder.js';
import type { VaeChunkGraph } from './encoder.js';
import { encodeChunkGraph } from './encoder.js';
import { latentFrameCount, latentSize, temporalFactor } from './geometry.js';
import type { LatentStats } from './latent-stats.js';

export interface VaeRunOptions extends VaeBuildOptions {
  /** Pixel size of the video. */
  height: number;
  width: number;
  batch?: number;
  stats?: LatentStats;
  session?: SessionOptions & Omit<SerializeOptions, 'outputs'>;
  /** Keep every compiled session until release() (default false: one at a time). */
  keepSessions?: boolean;
  /**
   * How a chunk graph becomes a session (default CompiledGraph.fromGraph). A model package passes one
   * that saves the graph beside its external weights and opens it by path.
   */
  compile?: (graph: Graph, variant: 'encode-first' | 'encode-next' | 'decode-first' | 'decode-next') => Promise<CompiledGraph>;
}

/** A [B, C, T, H, W] float32 clip. */
export interface Clip {
  data: Float32Array;
  shape: [number, number, number, number, number];
}

/** Frames [start, start + count) of a [B, C, T, H, W] array. */
export function sliceFrames(clip: Clip, start: number, count: number): Clip {
  const [b, c, t, h, w] = clip.shape;
  const plane = h * w;
  const out = new Float32Array(b * c * count * plane);
  for (let bc = 0; bc < b * c; bc++) {
    out.set(clip.data.subarray((bc * t + start) * plane, (bc * t + start + count) * plane), bc * count * plane);
  }
  return { data: out, shape: [b, c, count, h, w] };
}

/** Joins clips along the frame axis. */
export function concatFrames(parts: readonly Clip[]): Clip {
  const [b, c, , h, w] = parts[0]!.shape;
  const t = parts.reduce((s, p) => s + p.shape[2], 0);
  const plane = h * w;
  const out = new Float32Array(b * c * t * plane);
  let offset = 0;
  for (const p of parts) {
    const pt = p.shape[2];
    for (let bc = 0; bc < b * c; bc++) out.set(p.data.subarray(bc * pt * plane, (bc + 1) * pt * plane), (bc * t + offset) * plane);
    offset += pt;
  }
  return { data: out, shape: [b, c, t, h, w] };
}

type Variant = 'encode-first' | 'encode-next' | 'decode-first' | 'decode-next';

export class VaeRunner {
  private readonly sessions = new Map<Variant, { compiled: CompiledGraph; built: VaeChunkGraph }>();

  constructor(
    readonly cfg: VaeConfig,
    readonly provider: WeightProvider,
    readonly opts: VaeRunOptions,
  ) {
    latentSize(cfg, opts.height, opts.width); // fail early on a bad size
  }

  private async session(v: Variant): Promise<{ compiled: CompiledGraph; built: VaeChunkGraph }> {
    const have = this.sessions.get(v);
    if (have) return have;
    if (!this.opts.keepSessions) await this.release();
    const o = { ...this.opts, first: v.endsWith('first'), frames: v === 'encode-next' ? temporalFactor(this.cfg) : 1 };
    const built = v.startsWith('encode') ? encodeChunkGraph(this.cfg, this.provider, o) : decodeChunkGraph(this.cfg, this.provider, o);
    const compiled = this.opts.compile ? await this.opts.compile(built.graph, v) : await CompiledGraph.fromGraph(built.graph, { ...this.opts.session, outputs: built.graph.outputs });
    const s = { compiled, built };
    this.sessions.set(v, s);
    return s;
  }

  /** One chunk: feeds the data input and the previous caches; returns the output and the new caches. */
  private async step(v: Variant, input: Float32Array, caches: Feeds | null): Promise<{ out: Float32Array; caches: Feeds }> {
    const { compiled, built } = await this.session(v);
    const feeds: Feeds = { [built.input.name]: input };
    if (caches) for (const c of built.caches) feeds[c.input] = caches[c.output]!;
    const r = await compiled.run(feeds);
    const next: Feeds = {};
    for (const c of built.caches) next[c.output] = r[c.output]!;
    return { out: r[built.output.name] as Float32Array, caches: next };
  }

  /** Normalised latents [B, z, n+1, H/16, W/16] of a [B, 3, 4n+1, H, W] clip in [-1, 1]. */
  async encode(pixels: Clip): Promise<Clip> {
    const [b, , t] = pixels.shape;
    const n = latentFrameCount(this.cfg, t);
    const f = temporalFactor(this.cfg);
    const lat = latentSize(this.cfg, this.opts.height, this.opts.width);
    const outShape = (frames: number): Clip['shape'] => [b, this.cfg.zDim, frames, lat.height, lat.width];
    const parts: Clip[] = [];
    let caches: Feeds | null = null;
    for (let i = 0; i < n; i++) {
      const chunk = i === 0 ? sliceFrames(pixels, 0, 1) : sliceFrames(pixels, 1 + f * (i - 1), f);
      const r = await this.step(i === 0 ? 'encode-first' : 'encode-next', chunk.data, caches);
      caches = r.caches;
      parts.push({ data: r.out, shape: outShape(1) });
    }
    return concatFrames(parts);
  }

  /** Pixel chunks of a normalised latent clip, in order: 1 frame, then 4 per latent frame. */
  async *decodeChunks(latent: Clip): AsyncGenerator<Clip> {
    const [b, , n] = latent.shape;
    const f = temporalFactor(this.cfg);
    let caches: Feeds | null = null;
    for (let i = 0; i < n; i++) {
      const r = await this.step(i === 0 ? 'decode-first' : 'decode-next', sliceFrames(latent, i, 1).data, caches);
      caches = r.caches;
      yield { data: r.out, shape: [b, 3, i === 0 ? 1 : f, this.opts.height, this.opts.width] };
    }
  }

  /** Pixels [B, 3, 4n+1, H, W] in [-1, 1] of a [B, z, n+1, H/16, W/16] normalised latent clip. */
  async decode(latent: Clip): Promise<Clip> {
    const parts: Clip[] = [];
    for await (const p of this.decodeChunks(latent)) parts.push(p);
    return concatFrames(parts);
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.compiled.release();
  }
}
