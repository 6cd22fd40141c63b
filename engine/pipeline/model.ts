// A model package opened for generation: the ReFree-S2V DiT session for one chunk bucket, the VAE
// encoder (portrait → first-frame latent) and a streaming VAE decoder whose causal caches carry across
// chunks (so a long video decodes as one continuous clip, with memory of one latent frame), the speech
// front-end, the cached text context, and the package's identity hash (for the sidecar, the metadata
// and the watermark payload).
//
// Sessions stay open for the whole job (the sampler calls the DiT steps × chunks times); weights are
// placed in the package's engine cache by componentWeights exactly as `refree run` does.
import { createHash } from 'node:crypto';
import type { AnyTypedArray } from '../graph/dtype.js';
import type { Graph } from '../graph/graph.js';
import { ditParams } from '../model/inventory/dit.js';
import { vaeParams } from '../model/inventory/vae.js';
import type { EngineDtype } from '../model/package/engine-cache.js';
import { UnionWeightProvider, bucketName, compileInCache } from '../model/package/engine-cache.js';
import type { ModelSource } from '../model/package/source.js';
import { openPackageSource } from '../model/package/source.js';
import { manifestFiles } from '../model/package/manifest.js';
import { RunError, chooseBackend, componentWeights } from '../model/run/common.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { buildReFreeGraph } from '../model/refree/model.js';
import { refreeParams } from '../model/refree/params.js';
import { DEFAULT_MEL_FRONT_END, frontEndWidth, melFeatures } from '../model/speech/front-end.js';
import type { SpeechFrontEnd } from '../model/speech/front-end.js';
import { WAV2VEC2_BASE_960H, wav2vec2Features } from '../model/speech/wav2vec2.js';
import type { Wav2Vec2FrontEnd } from '../model/speech/wav2vec2.js';
import { resolveFilePath } from '../model/package/manifest.js';
import type { MelFrontEnd } from '../model/speech/front-end.js';
import { DEFAULT_MEL } from '../model/speech/mel.js';
import { decodeChunkGraph } from '../model/vae/decoder.js';
import type { VaeChunkGraph } from '../model/vae/encoder.js';
import { encodeChunkGraph } from '../model/vae/encoder.js';
import { latentSize, spatialFactor, temporalFactor } from '../model/vae/geometry.js';
import { SafetensorsFile } from '../model/weights/safetensors.js';
import { f16ToF32, f32ToF16 } from '../graph/half.js';
import type { CompiledGraph, Feeds } from '../runtime/session.js';
import type { Backend } from '../runtime/session.js';

export interface OpenModelOptions {
  backend?: Backend;
  dtype?: EngineDtype;
}

export interface GenerationModel {
  src: ModelSource;
  name: string;
  /** SHA-256 over the package's file hashes (stable while the package's bytes are). */
  hash: string;
  /** The key of prepared training data (preparationHash): VAE and speech front-end only. */
  dataHash: string;
  refree: ReFreeConfig;
  frontEnd: SpeechFrontEnd;
  /** The wav2vec2 checkpoint (Hugging Face layout) when the front-end is wav2vec2. */
  frontEndWeights: string | null;
  /** Latent channels, spatial and temporal VAE factors. */
  channels: number;
  spatial: number;
  stride: number;
  backend: Backend;
  dtype: EngineDtype;
  notes: string[];
  /** [textLen·textDim] constant text context. */
  context: Float32Array;
}

export class ModelError extends Error {
  override name = 'ModelError';
}

/**
 * What prepared training data depends on: the VAE's files (latents) and the speech front-end's files
 * and settings (speech features). A dataset prepared for one package therefore serves every package
 * that shares them — a fine-tuned adapter, or a DiT of another shape over the same VAE — without
 * encoding the clips again.
 */
export function preparationHash(src: ModelSource): string {
  if (!src.manifest) return createHash('sha256').update(`prep:${src.name}`).digest('hex');
  const fe = src.manifest.components.speechFrontEnd;
  const lines = manifestFiles(src.manifest)
    .filter(({ component }) => component === 'vae' || component === 'speechFrontEnd')
    .map(({ component, file }) => `${component}:${file.sha256}`);
  lines.push(`frontEnd:${JSON.stringify(fe ? { kind: fe.kind, config: fe.config ?? null } : null)}`);
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

/** SHA-256 over "component:path:sha256" lines of every file the manifest lists. */
export function packageHash(src: ModelSource): string {
  if (!src.manifest) return createHash('sha256').update(src.name).digest('hex');
  const lines = manifestFiles(src.manifest).map(({ component, file }) => `${component}:${file.path}:${file.sha256}`);
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

async function cachedContext(src: ModelSource): Promise<Float32Array | null> {
  for (const f of src.textContext) {
    const st = await SafetensorsFile.open(f);
    try {
      if (st.has('context')) return Float32Array.from(await st.readF32('context'));
    } finally {
      await st.close();
    }
  }
  return null;
}

function frontEndOf(src: ModelSource): { frontEnd: SpeechFrontEnd; weights: string | null } {
  const fe = src.manifest?.components.speechFrontEnd;
  if (!fe) return { frontEnd: DEFAULT_MEL_FRONT_END, weights: null };
  if (fe.kind === 'wav2vec2') {
    // The checkpoint file (safetensors or .bin) with its config.json beside it (engine/model/speech).
    const file = fe.files.find((f) => f.format === 'safetensors' || f.format === 'pth');
    if (!file || !src.dir) throw new ModelError(`the package's wav2vec2 speech front-end lists no checkpoint file; re-create the package with --wav2vec2 <model.safetensors>`);
    return { frontEnd: { ...WAV2VEC2_BASE_960H, ...((fe.config ?? {}) as Partial<Wav2Vec2FrontEnd>), kind: 'wav2vec2' }, weights: resolveFilePath(src.dir, file) };
  }
  const c = (fe.config ?? {}) as Partial<MelFrontEnd>;
  return { frontEnd: { kind: 'log-mel', mel: { ...DEFAULT_MEL, ...(c.mel ?? {}) }, context: c.context ?? DEFAULT_MEL_FRONT_END.context, resample: c.resample ?? 'area' }, weights: null };
}

export async function openGenerationModel(pkgDir: string, opts: OpenModelOptions = {}): Promise<GenerationModel> {
  const src = await openPackageSource(pkgDir);
  if (!src.refree) throw new ModelError(`package "${src.name}" has no ReFree speech adapter (components.refree): it cannot animate a portrait from speech`);
  const { frontEnd, weights: frontEndWeights } = frontEndOf(src);
  if (frontEndWidth(frontEnd) !== src.refree.speechDim) {
    throw new ModelError(`package "${src.name}": the speech front-end gives ${frontEndWidth(frontEnd)} values per frame but the adapter expects ${src.refree.speechDim}`);
  }
  const context = await cachedContext(src);
  if (!context) throw new ModelError(`package "${src.name}" has no cached text context (components.textContext); run \`refree run t5\` once and add its output`);
  const { dit } = src.arch;
  if (context.length > dit.textLen * dit.textDim || context.length % dit.textDim !== 0) throw new ModelError(`the package's text context has ${context.length} values; expected rows of ${dit.textDim} (at most ${dit.textLen})`);
  const full = new Float32Array(dit.textLen * dit.textDim);
  full.set(context);
  const { backend, dtype, skipped } = await chooseBackend({ backend: opts.backend ?? 'cpu', dtype: opts.dtype });
  return {
    src,
    name: src.name,
    hash: packageHash(src),
    dataHash: preparationHash(src),
    refree: src.refree,
    frontEnd,
    frontEndWeights,
    channels: src.arch.vae.zDim,
    spatial: spatialFactor(src.arch.vae),
    stride: temporalFactor(src.arch.vae),
    backend,
    dtype,
    notes: skipped.map((s) => `skipped ${s}`),
    context: full,
  };
}

/** Speech features aligned to `videoFrames` video frames: [videoFrames, speechDim]. */
export async function speechFeatures(m: GenerationModel, samples: Float32Array, fps: number, videoFrames: number): Promise<Float32Array> {
  if (m.frontEnd.kind === 'log-mel') return melFeatures(samples, m.frontEnd, fps, videoFrames);
  return wav2vec2Features(m.frontEndWeights!, samples, m.frontEnd, fps, videoFrames, { backend: m.backend });
}

const toDtype = (a: Float32Array, dtype: EngineDtype): AnyTypedArray => (dtype === 'float32' ? a : f32ToF16(a).data);
const fromOut = (a: AnyTypedArray): Float32Array => (a instanceof Float32Array ? a : f16ToF32(a as Uint16Array));

/** The DiT + speech adapter for chunks of `frames` latent frames of an h×w latent grid. */
export class DitRunner {
  private constructor(
    private readonly session: CompiledGraph,
    private readonly dtype: EngineDtype,
    readonly modelPath: string,
  ) {}

  static async open(m: GenerationModel, size: { frames: number; h: number; w: number }): Promise<DitRunner> {
    const { src } = m;
    const cfg = src.arch.dit;
    const open = { prefer: m.backend, fallback: false };
    const dit = await componentWeights(src, 'dit', ditParams(cfg), m.dtype, {}, ['refree.']);
    const specs = refreeParams(m.refree);
    const ad = await componentWeights(src, 'refree', specs, m.dtype, {});
    if (ad.dir !== dit.dir) throw new RunError('internal: DiT and adapter weights in different cache folders');
    const names = new Set(specs.map((s) => s.name));
    const provider = new UnionWeightProvider([
      { has: (n) => names.has(n), provider: ad.provider },
      { has: () => true, provider: dit.provider },
    ]);
    const g: Graph = buildReFreeGraph(cfg, m.refree, provider, { batch: 1, ...size }, { dtype: m.dtype, attention: 'fused', speechMask: true });
    const stem = `${m.backend}.dit.${bucketName({ b: 1, f: size.frames, h: size.h, w: size.w })}.fused.refree-masked`;
    const opened = await compileInCache(g, dit.dir, stem, open);
    return new DitRunner(opened.session, m.dtype, opened.modelPath);
  }

  /**
   * Velocity [C, F, h, w] for latents [C, F, h, w], per-frame timesteps [F], context, speech
   * [Tv, speechDim] and the speech mask [Tv] (1 = that frame's speech is replaced by the model's null
   * speech; all ones is the "no speech" pass of guidance).
   */
  async velocity(latents: Float32Array, timesteps: Float32Array, context: Float32Array, speech: Float32Array, speechMask: Float32Array): Promise<Float32Array> {
    const r = await this.session.run({ latents: toDtype(latents, this.dtype), timesteps, context: toDtype(context, this.dtype), speech_features: toDtype(speech, this.dtype), speech_mask: speechMask });
    return fromOut(r.velocity!);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

type VaeVariant = 'encode-first' | 'decode-first' | 'decode-next';

/** VAE sessions for one pixel size: encode one frame, and decode latent frames one at a time with carried caches. */
export class VaeStream {
  private sessions = new Map<VaeVariant, { compiled: CompiledGraph; built: VaeChunkGraph }>();
  private caches: Feeds | null = null;
  private decoded = 0;

  private constructor(
    private readonly m: GenerationModel,
    private readonly provider: Awaited<ReturnType<typeof componentWeights>>,
    readonly height: number,
    readonly width: number,
  ) {}

  static async open(m: GenerationModel, size: number): Promise<VaeStream> {
    latentSize(m.src.arch.vae, size, size);
    const prepared = await componentWeights(m.src, 'vae', vaeParams(m.src.arch.vae), m.dtype, {});
    return new VaeStream(m, prepared, size, size);
  }

  private async session(v: VaeVariant): Promise<{ compiled: CompiledGraph; built: VaeChunkGraph }> {
    const have = this.sessions.get(v);
    if (have) return have;
    // decode-first is used once; the encoder once: free them before the next one (one VAE session alive).
    for (const [k, s] of this.sessions) {
      if (k !== v) {
        await s.compiled.release();
        this.sessions.delete(k);
      }
    }
    const cfg = this.m.src.arch.vae;
    const o = { first: v !== 'decode-next', frames: 1, height: this.height, width: this.width, batch: 1, attention: 'naive' as const };
    const built = v === 'encode-first' ? encodeChunkGraph(cfg, this.provider.provider, o) : decodeChunkGraph(cfg, this.provider.provider, o);
    const stem = `${this.m.backend}.vae-${v}.${bucketName({ b: 1, h: this.height, w: this.width })}.naive`;
    const opened = await compileInCache(built.graph, this.provider.dir, stem, { prefer: this.m.backend, fallback: false });
    const s = { compiled: opened.session, built };
    this.sessions.set(v, s);
    return s;
  }

  /** Normalised latent [C, 1, h, w] of one frame [3, 1, H, W] in [-1, 1]. */
  async encodeFrame(pixels: Float32Array): Promise<Float32Array> {
    const { compiled, built } = await this.session('encode-first');
    const r = await compiled.run({ [built.input.name]: toDtype(pixels, this.m.dtype) });
    return fromOut(r[built.output.name]!);
  }

  /** Pixels [3, n, H, W] in [-1, 1] of the next latent frame of the clip ([C, h, w]); n = 1 first, then the stride. */
  async decodeNext(latentFrame: Float32Array): Promise<Float32Array> {
    const v: VaeVariant = this.decoded === 0 ? 'decode-first' : 'decode-next';
    const { compiled, built } = await this.session(v);
    const feeds: Feeds = { [built.input.name]: toDtype(latentFrame, this.m.dtype) };
    if (this.caches) for (const c of built.caches) feeds[c.input] = this.caches[c.output]!;
    const r = await compiled.run(feeds);
    const next: Feeds = {};
    for (const c of built.caches) next[c.output] = r[c.output]!;
    this.caches = next;
    this.decoded++;
    return fromOut(r[built.output.name]!);
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await s.compiled.release();
    this.sessions.clear();
  }
}
