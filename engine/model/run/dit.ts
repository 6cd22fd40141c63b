// `refree run dit`: one DiT (or ReFree-S2V) forward on host tensors, with the weights of a model
// source (package or loose files) referenced from the engine cache.
//
//   latents   [B, inDim, F, h, w]                         noisy latents (VAE-normalised)
//   timesteps [B, F/pt] per latent frame, or [B, L] per token (L = (F/pt)(h/ph)(w/pw); converted with
//             perFrameTimesteps, which requires one value per frame), raw t in [0, 1000]
//   context   [B or 1, n <= textLen, textDim]            text context; zero-padded to textLen rows, a batch of
//             1 is repeated; when absent, the package's cached text context (textContext) is used
//   speech    [B, 4(F-1)+1, speechDim] (optional)         speech features per video frame: runs ReFree-S2V
//   -> velocity [B, outDim, F, h, w]
import type { AnyTypedArray } from '../../graph/dtype.js';
import type { Graph } from '../../graph/graph.js';
import type { LinearHook } from '../dit/dit.js';
import { buildDitGraph } from '../dit/dit.js';
import { perFrameTimesteps } from '../dit/embeddings.js';
import { tokenGrid } from '../dit/patch.js';
import { ditParams } from '../inventory/dit.js';
import { adapterEntries, loraConfigFromAdapter } from '../lora/adapter.js';
import { loraHook } from '../lora/hook.js';
import { loadLora } from '../lora/io.js';
import { UnionWeightProvider, bucketName, compileInCache } from '../package/engine-cache.js';
import type { EngineDtype } from '../package/engine-cache.js';
import type { ModelSource } from '../package/source.js';
import { videoFramesFor } from '../refree/frames.js';
import { buildReFreeGraph } from '../refree/model.js';
import { refreeParams } from '../refree/params.js';
import type { WeightEntry } from '../weight-provider.js';
import { MapWeightProvider } from '../weight-provider.js';
import { f16ToF32, f32ToF16 } from '../../graph/half.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import type { HostTensor, RunInfo, RunOptions } from './common.js';
import { RunError, chooseBackend, componentWeights, fmtShape } from './common.js';

export interface DitRunInputs {
  latents: HostTensor;
  timesteps: HostTensor;
  context?: HostTensor;
  speech?: HostTensor;
}

export interface DitRunOptions extends RunOptions {
  /** Self-attention form (default 'fused'). */
  attention?: 'fused' | 'naive' | 'blockwise';
}

export interface DitRunResult extends RunInfo {
  velocity: Float32Array;
  shape: number[];
  /** Whether the ReFree speech adapter ran. */
  speech: boolean;
  /** LoRA adapters applied. */
  loras: string[];
  /** How the timesteps were given. */
  timesteps: 'per-frame' | 'per-token';
}

/** Timesteps as one value per latent frame [B, F'], from [B, F'] or [B, L]. */
export function frameTimesteps(t: HostTensor, batch: number, grid: { frames: number; h: number; w: number }): { data: Float32Array; given: 'per-frame' | 'per-token' } {
  const L = grid.frames * grid.h * grid.w;
  if (t.shape.length === 2 && t.shape[0] === batch && t.shape[1] === grid.frames) return { data: t.data, given: 'per-frame' };
  if (t.shape.length === 2 && t.shape[0] === batch && t.shape[1] === L) return { data: perFrameTimesteps(t.data, batch, grid), given: 'per-token' };
  throw new RunError(`timesteps must be [${batch}, ${grid.frames}] (one per latent frame) or [${batch}, ${L}] (one per token), got ${fmtShape(t.shape)}`);
}

/** The context as [B, textLen, textDim]: rows zero-padded, a batch of 1 repeated. */
export function fullContext(c: HostTensor, batch: number, textLen: number, textDim: number): Float32Array {
  const [cb, n, d] = c.shape as [number, number, number];
  if (c.shape.length !== 3 || d !== textDim || n > textLen || (cb !== batch && cb !== 1)) {
    throw new RunError(`context must be [${batch} (or 1), n <= ${textLen}, ${textDim}], got ${fmtShape(c.shape)}`);
  }
  const out = new Float32Array(batch * textLen * textDim);
  for (let b = 0; b < batch; b++) out.set(c.data.subarray((cb === 1 ? 0 : b) * n * d, ((cb === 1 ? 0 : b) + 1) * n * d), b * textLen * textDim);
  return out;
}

/** The first cached text context of the package (a `context` tensor). */
async function cachedContext(src: ModelSource): Promise<HostTensor | null> {
  for (const f of src.textContext) {
    const st = await SafetensorsFile.open(f);
    try {
      if (st.has('context')) {
        const t = st.info('context');
        return { dtype: t.dtype, shape: [...t.shape], data: Float32Array.from(await st.readF32('context')) };
      }
    } finally {
      await st.close();
    }
  }
  return null;
}

function toDtype(a: Float32Array, dtype: EngineDtype): AnyTypedArray {
  return dtype === 'float32' ? a : f32ToF16(a).data;
}

/** The enabled LoRA adapters as one LinearHook (applied in order), inline weights in the engine dtype. */
async function loraLinear(src: ModelSource, dtype: EngineDtype): Promise<{ hook: LinearHook | undefined; names: string[] }> {
  let hook: LinearHook | undefined;
  for (const l of src.loras) {
    const { adapter } = await loadLora(l.file, { dit: src.arch.dit });
    const entries = adapterEntries(adapter);
    const typed = new Map<string, WeightEntry>();
    for (const [k, e] of entries) {
      const data = (e.data as { kind: 'inline'; data: Float32Array }).data;
      typed.set(k, dtype === 'float32' ? e : { dtype: 'float16', shape: e.shape, data: { kind: 'inline', data: f32ToF16(data).data } });
    }
    const h = loraHook(loraConfigFromAdapter(adapter, l.multiplier), new MapWeightProvider(typed, `LoRA "${l.name}"`));
    const prev = hook;
    hook = prev ? (name, x, base) => h(name, x, (xi) => prev(name, xi, base)) : h;
  }
  return { hook, names: src.loras.map((l) => l.name) };
}

export async function runDit(src: ModelSource, inputs: DitRunInputs, opts: DitRunOptions = {}): Promise<DitRunResult> {
  const t0 = performance.now();
  const cfg = src.arch.dit;
  const lat = inputs.latents;
  if (lat.shape.length !== 5 || lat.shape[1] !== cfg.inDim) throw new RunError(`latents must be [B, ${cfg.inDim}, F, h, w], got ${fmtShape(lat.shape)}`);
  const [B, , F, h, w] = lat.shape as [number, number, number, number, number];
  let grid;
  try {
    grid = tokenGrid(lat.shape, cfg.patch, 'run dit');
  } catch {
    throw new RunError(`latents ${fmtShape(lat.shape)}: F, h, w must be multiples of the patch [${cfg.patch.join(',')}]`);
  }
  const ts = frameTimesteps(inputs.timesteps, B, grid);
  const ctxIn = inputs.context ?? (await cachedContext(src));
  if (!ctxIn) throw new RunError('no `context` tensor in the inputs, and the package has no cached text context (run `refree run t5` and pass its output)');
  const context = fullContext(ctxIn, B, cfg.textLen, cfg.textDim);

  const useSpeech = inputs.speech !== undefined;
  const refree = src.refree;
  if (useSpeech && !refree) throw new RunError('`speech` was given but the model has no ReFree speech adapter (the package lists no refree component)');
  if (useSpeech) {
    const want = [B, videoFramesFor(grid.frames, refree!.temporalStride), refree!.speechDim];
    if (inputs.speech!.shape.join() !== want.join()) throw new RunError(`speech must be ${fmtShape(want)} (speech features per video frame), got ${fmtShape(inputs.speech!.shape)}`);
  }

  const { backend, dtype, open, skipped } = await chooseBackend(opts);
  const notes = skipped.map((s) => `skipped ${s}`);
  const dit = await componentWeights(src, 'dit', ditParams(cfg), dtype, opts, ['refree.']);
  notes.push(...dit.notes);
  let weights = { inPlace: dit.inPlace, converted: dit.converted, writtenBytes: dit.writtenBytes };
  let provider = dit.provider;
  if (useSpeech) {
    const specs = refreeParams(refree!);
    const ad = await componentWeights(src, 'refree', specs, dtype, opts);
    if (ad.dir !== dit.dir) throw new Error('internal: DiT and adapter weights in different cache folders');
    notes.push(...ad.notes);
    weights = { inPlace: weights.inPlace + ad.inPlace, converted: weights.converted + ad.converted, writtenBytes: weights.writtenBytes + ad.writtenBytes };
    const names = new Set(specs.map((s) => s.name));
    provider = new UnionWeightProvider([
      { has: (n) => names.has(n), provider: ad.provider },
      { has: () => true, provider: dit.provider },
    ]);
  }
  const lora = await loraLinear(src, dtype);
  const size = { batch: B, frames: F, h, w };
  const gopts = { dtype, attention: opts.attention ?? 'fused', linear: lora.hook } as const;
  const g: Graph = useSpeech ? buildReFreeGraph(cfg, refree!, provider, size, gopts) : buildDitGraph(cfg, provider, size, gopts);
  const variant = `${useSpeech ? '.refree' : ''}${lora.names.length ? `.lora-${bucketName({ n: lora.names.length })}` : ''}`;
  const stem = `${backend}.dit.${bucketName({ b: B, f: F, h, w })}.${gopts.attention}${variant}`;
  const opened = await compileInCache(g, dit.dir, stem, open);
  try {
    const feeds: Record<string, AnyTypedArray> = { latents: toDtype(lat.data, dtype), timesteps: ts.data, context: toDtype(context, dtype) };
    if (useSpeech) feeds.speech_features = toDtype(inputs.speech!.data, dtype);
    const r = await opened.session.run(feeds);
    const v = r.velocity!;
    const velocity = v instanceof Float32Array ? v : f16ToF32(v as Uint16Array);
    return {
      velocity,
      shape: [B, cfg.outDim, F, h, w],
      speech: useSpeech,
      loras: lora.names,
      timesteps: ts.given,
      backend: opened.backend,
      dtype,
      engines: [opened.modelPath],
      weights,
      notes: [...notes, ...opened.skipped.map((s) => `skipped ${s}`)],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await opened.session.release();
  }
}
