// The measurements, one function per stage. Each runs inside its own child process (check.ts), so a
// stage that hangs in a native call or runs out of memory is killed and reported without taking the
// rest of the check with it. A stage returns plain numbers; the parent adds status and timing.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AttentionImpl } from '../../engine/graph/ops/attention.js';
import type { Graph } from '../../engine/graph/graph.js';
import { buildDitGraph } from '../../engine/model/dit/dit.js';
import { ditParams } from '../../engine/model/inventory/dit.js';
import { countParams } from '../../engine/model/inventory/types.js';
import type { ParamSpec } from '../../engine/model/inventory/types.js';
import { vaeDecoderParams } from '../../engine/model/inventory/vae.js';
import { compileInCache } from '../../engine/model/package/engine-cache.js';
import type { OpenOptions, OpenedSession } from '../../engine/runtime/backends.js';
import { buildReFreeGraph } from '../../engine/model/refree/model.js';
import { refreeParams } from '../../engine/model/refree/params.js';
import { randomWeights, seededNormal } from '../../engine/model/random-weights.js';
import type { Clip } from '../../engine/model/vae/run.js';
import { VaeRunner } from '../../engine/model/vae/run.js';
import type { VaeConfig } from '../../engine/model/config.js';
import { MapWeightProvider } from '../../engine/model/weight-provider.js';
import type { WeightProvider } from '../../engine/model/weight-provider.js';
import { BACKEND_ORDER, gpuDeviceNodePresent, probeBackend } from '../../engine/runtime/backends.js';
import { queryNvidiaGpus } from '../../engine/runtime/gpu-info.js';
import { CompiledGraph, sessionOptions } from '../../engine/runtime/session.js';
import { ort } from '../../engine/runtime/ort.js';
import { serialize } from '../../engine/graph/onnx/serialize.js';
import { decodeChunkGraph } from '../../engine/model/vae/decoder.js';
import { refreeConfigFor } from '../../engine/model/refree/config.js';
import type { Backend } from '../../engine/runtime/session.js';
import { asF32, compare, makeFeeds, nonFinite } from './feeds.js';
import { FileWeightProvider, unionProvider, writeRandomF16 } from './file-weights.js';
import type { CheckPlan, StageName } from './plan.js';
import { runSftStage } from './trainer.js';

export interface StageContext {
  plan: CheckPlan;
  /** Folder for weights and engines (kept between runs: weights are reused when they match). */
  work: string;
  backend: Backend;
  /** Epoch ms by which the stage must have returned; timing loops stop early to respect it. */
  deadline: number;
  log: (msg: string) => void;
  /** Attention forms that ran in the attention stage, best first (the DiT stages try them in this order). */
  attention?: AttentionImpl[];
  /** The attention stage: the one form to try in this process. */
  form?: AttentionImpl;
  /** Records what is measured so far, so a stage stopped at its deadline still reports it. */
  partial: (data: Record<string, unknown>) => void;
}

export type StageResult = Record<string, unknown>;

const now = (): number => performance.now();
const secs = (t0: number): number => (performance.now() - t0) / 1000;
const rssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();

/** Weight files of this plan, under <work>/weights, named by sizes and seed so a changed plan never reuses stale ones. */
export function weightFiles(plan: CheckPlan, work: string): Record<'dit' | 'refree' | 'vae' | 'precisionDit' | 'precisionVae', { file: string; specs: ParamSpec[] }> {
  const d = plan.arch.dit;
  const p = plan.precision.dit;
  const v = (c: VaeConfig): string => `z${c.zDim}-d${c.decDim}`;
  // The name carries a hash of every parameter's name and shape, so a changed architecture never reuses a stale file.
  const entry = (stem: string, specs: ParamSpec[]): { file: string; specs: ParamSpec[] } => {
    const h = createHash('sha256').update(specs.map((s) => `${s.name}:${s.shape.join('x')}`).join(',')).digest('hex').slice(0, 10);
    return { file: path.join(work, 'weights', `${stem}-s${plan.seed}-${h}.f16.safetensors`), specs };
  };
  return {
    dit: entry(`dit-${d.dim}x${d.layers}`, ditParams(d)),
    refree: entry(`refree-${plan.refree.hidden}x${plan.refree.injectBlocks.length}`, refreeParams(plan.refree)),
    vae: entry(`vae-${v(plan.arch.vae)}`, vaeDecoderParams(plan.arch.vae)),
    precisionDit: entry(`precision-dit-${p.dim}x${p.layers}`, ditParams(p)),
    precisionVae: entry(`precision-vae-${v(plan.precision.vae)}`, vaeDecoderParams(plan.precision.vae)),
  };
}

// ------------------------------------------------------------------------------------------------
// probe

function vulkanLoader(): string | null {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    const hit = out.split('\n').find((l) => l.includes('libvulkan.so.1'));
    if (hit) return hit.split('=>').pop()!.trim();
  } catch {
    /* no ldconfig */
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    if (existsSync(path.join(dir, 'libvulkan.so.1'))) return path.join(dir, 'libvulkan.so.1');
  }
  return null;
}

function ortVersion(): string | null {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

async function probe(ctx: StageContext): Promise<StageResult> {
  const backends = [];
  for (const b of BACKEND_ORDER) {
    ctx.log(`probing ${b}`);
    // A native abort while probing (seen with some WebGPU adapters) kills this process: what was
    // learnt about the backends before it stays in the report.
    ctx.partial({ backends, probing: b });
    backends.push(await probeBackend(b));
  }
  const hardware = gpuDeviceNodePresent();
  const gpu = backends.find((s) => s.works && s.backend !== 'cpu' && (s.backend !== 'webgpu' || hardware !== false));
  const softwareWebgpu = backends.some((s) => s.works && s.backend === 'webgpu' && hardware === false);
  // Locally the CPU is both faster and deterministic; on the GPU machine the first GPU backend that works.
  const chosen: Backend = ctx.plan.mode === 'local' ? 'cpu' : (gpu?.backend ?? 'cpu');
  const gpus = queryNvidiaGpus();
  return {
    backends,
    chosen,
    softwareWebgpu,
    gpuDeviceNode: hardware,
    gpus: gpus.gpus,
    gpuReason: gpus.reason,
    vulkanLoader: vulkanLoader(),
    vkDriverFiles: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? null,
    node: process.version,
    nodePath: process.execPath,
    onnxruntime: ortVersion(),
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

// ------------------------------------------------------------------------------------------------
// weights

async function weights(ctx: StageContext, which: readonly string[]): Promise<StageResult> {
  const files = weightFiles(ctx.plan, ctx.work);
  const out: Record<string, unknown> = {};
  let bytes = 0;
  let written = 0;
  const t0 = now();
  for (const key of which as (keyof typeof files)[]) {
    const { file, specs } = files[key];
    const params = countParams(specs);
    if (existsSync(file)) {
      try {
        const p = await FileWeightProvider.open(file, ctx.work);
        if (specs.every((s) => p.shapeOf(s.name)?.join('x') === s.shape.join('x'))) {
          out[key] = { file, params, reused: true };
          continue;
        }
      } catch {
        /* rewritten below */
      }
    }
    ctx.log(`writing ${key} weights (${(params / 1e6).toFixed(1)}M params, float16)`);
    const w = await writeRandomF16(file, specs, ctx.plan.seed);
    bytes += w.bytes;
    written += w.seconds;
    out[key] = { file, params, bytes: w.bytes, seconds: w.seconds, reused: false };
  }
  return { files: out, bytesWritten: bytes, writeGBps: written > 0 ? bytes / 1e9 / written : null, seconds: secs(t0) };
}

// ------------------------------------------------------------------------------------------------
// DiT (with and without the speech modules)

/** Every attention form, in the order the product prefers them for inference. */
export const ATTENTION_FORMS: readonly AttentionImpl[] = ['fused', 'blockwise', 'naive'];

/** Attention forms to try, in order: those the attention stage saw run, else the fused kernel first. */
function attentionForms(ctx: StageContext): AttentionImpl[] {
  if (ctx.attention?.length) return ctx.attention;
  return ctx.backend === 'cpu' ? ['fused', 'naive'] : ['fused', 'blockwise'];
}

/**
 * One attention form on a one-block DiT with the plan's head width (32 tokens), in its own process: a
 * kernel that hangs on this backend (the fused one did on a software WebGPU adapter) costs this
 * stage's few seconds instead of a full-size stage.
 */
/**
 * Opens small graphs with the model's ops (one DiT block with the speech modules, a VAE decode chunk)
 * with ORT's verbose log on, so the parent can read which nodes the backend leaves to the CPU. Each
 * graph's log follows a "@@placement <graph>" line.
 */
async function placement(ctx: StageContext): Promise<StageResult> {
  const d = ctx.plan.arch.dit;
  const head = d.dim / d.heads;
  const cfg = { ...d, dim: 2 * head, heads: 2, ffnDim: 4 * head, layers: 1, textLen: 8, textDim: 64 };
  const rc = refreeConfigFor(cfg, { speechDim: 32, hidden: 16, kernelSizes: [1, 3], layers: 1 });
  const provider = new MapWeightProvider(randomWeights([...ditParams(cfg), ...refreeParams(rc)], ctx.plan.seed));
  const attention = ctx.attention?.[0] ?? 'blockwise';
  const vae = { ...ctx.plan.arch.vae, encDim: 8, decDim: 8 };
  const graphs: [string, Graph][] = [
    ['dit', buildReFreeGraph(cfg, rc, provider, { batch: 1, frames: 2, h: 4, w: 4 }, { dtype: ctx.plan.dtype, attention, speechMask: true })],
    ['vae', decodeChunkGraph(vae, new MapWeightProvider(randomWeights(vaeDecoderParams(vae), ctx.plan.seed)), { first: false, frames: 1, height: 32, width: 32, attention: 'naive' }).graph],
  ];
  const O = ort();
  for (const [name, g] of graphs) {
    process.stderr.write(`@@placement ${name}\n`);
    const s = await O.InferenceSession.create(serialize(g), { ...sessionOptions({ backend: ctx.backend }), logSeverityLevel: 0, logVerbosityLevel: 0 } as never);
    await s.release();
  }
  return { graphs: graphs.map(([n]) => n), attention };
}

async function attentionForm(ctx: StageContext): Promise<StageResult> {
  if ((ctx.form as string) === 'placement') return placement(ctx);
  const form = ctx.form ?? 'fused';
  const d = ctx.plan.arch.dit;
  const head = d.dim / d.heads;
  const cfg = { ...d, dim: 2 * head, heads: 2, ffnDim: 4 * head, layers: 1, textLen: 8, textDim: 64 };
  const provider = new MapWeightProvider(randomWeights(ditParams(cfg), ctx.plan.seed));
  const g = buildDitGraph(cfg, provider, { batch: 1, frames: 2, h: 8, w: 8 }, { dtype: ctx.plan.dtype, attention: form });
  let t = now();
  const s = await CompiledGraph.fromGraph(g, { backend: ctx.backend, disableCse: form === 'blockwise' });
  const sessionSeconds = secs(t);
  try {
    const feeds = makeFeeds(s.inputs, ctx.plan.seed);
    t = now();
    const r = await s.run(feeds);
    const firstRunSeconds = secs(t);
    t = now();
    await s.run(feeds);
    return { form, headDim: head, sessionSeconds, firstRunSeconds, runSeconds: secs(t), nonFinite: nonFinite(asF32(Object.values(r)[0]!)) };
  } finally {
    await s.release();
  }
}

/**
 * Opens a graph saved beside the weights on the chosen backend. On a GPU backend it first tries with
 * the CPU fallback off: if that fails, the error names the first node without a GPU kernel (the answer
 * to "does the whole model run on the GPU?"), and the graph is opened again with the fallback on.
 */
async function openOnBackend(ctx: StageContext, g: Graph, stem: string, opts: OpenOptions = {}): Promise<{ opened: OpenedSession; cpuNodes: string | null }> {
  const base: OpenOptions = { prefer: ctx.backend, fallback: false, ...opts };
  if (ctx.backend === 'cpu') return { opened: await compileInCache(g, ctx.work, stem, base), cpuNodes: null };
  try {
    return { opened: await compileInCache(g, ctx.work, stem, { ...base, disableCpuFallback: true }), cpuNodes: null };
  } catch (e) {
    const why = firstLine(e);
    ctx.log(`${stem}: not every node runs on ${ctx.backend} (${why}); opening again with the CPU fallback`);
    return { opened: await compileInCache(g, ctx.work, stem, base), cpuNodes: why };
  }
}

interface Timed {
  sessionSeconds: number;
  buildSeconds: number;
  firstRunSeconds: number;
  stepSeconds: number | null;
  stepSecondsAll: number[];
  nonFinite: number;
  outputs: number;
  backend: Backend;
  /** Why the graph could not run with the CPU fallback off (a node without a GPU kernel); null: all on the backend. */
  cpuNodes: string | null;
}

/** Opens a graph on the chosen backend (saved beside the weights), runs it once to warm up, then times runs until `timedRuns` or the deadline. */
async function timeGraph(ctx: StageContext, build: () => Graph, stem: string, disableCse: boolean): Promise<Timed> {
  let t = now();
  const g = build();
  const buildSeconds = secs(t);
  t = now();
  const { opened, cpuNodes } = await openOnBackend(ctx, g, stem, { disableCse });
  const sessionSeconds = secs(t);
  ctx.partial({ stem, buildSeconds, sessionSeconds, cpuNodes });
  const s = opened.session;
  try {
    const feeds = makeFeeds(s.inputs, ctx.plan.seed);
    ctx.log(`${stem}: session open in ${sessionSeconds.toFixed(1)} s; warm-up run`);
    t = now();
    let r = await s.run(feeds);
    const firstRunSeconds = secs(t);
    ctx.partial({ stem, buildSeconds, sessionSeconds, cpuNodes, firstRunSeconds });
    const all: number[] = [];
    while (all.length < ctx.plan.timedRuns) {
      const last = all.length ? all[all.length - 1]! : firstRunSeconds;
      if (Date.now() + last * 1000 * 1.2 > ctx.deadline) break;
      t = now();
      r = await s.run(feeds);
      all.push(secs(t));
      ctx.log(`${stem}: run ${all.length} ${all[all.length - 1]!.toFixed(3)} s`);
    }
    const v = asF32(Object.values(r)[0]!);
    const sorted = [...all].sort((a, b) => a - b);
    return {
      sessionSeconds,
      buildSeconds,
      firstRunSeconds,
      stepSeconds: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null,
      stepSecondsAll: all,
      nonFinite: nonFinite(v),
      outputs: v.length,
      backend: opened.backend,
      cpuNodes,
    };
  } finally {
    await s.release();
  }
}

async function dit(ctx: StageContext, speech: boolean): Promise<StageResult> {
  const { plan } = ctx;
  const files = weightFiles(plan, ctx.work);
  const base = await FileWeightProvider.open(files.dit.file, ctx.work);
  const provider: WeightProvider = speech ? unionProvider([await FileWeightProvider.open(files.refree.file, ctx.work), base]) : base;
  const size = { batch: 1, ...plan.latent };
  const cfg = plan.arch.dit;
  const attempts: { attention: AttentionImpl; error: string }[] = [];
  for (const attention of attentionForms(ctx)) {
    const stem = `${ctx.backend}.${speech ? 'refree' : 'dit'}.${cfg.dim}x${cfg.layers}.f${size.frames}-${size.h}x${size.w}.${attention}`;
    const build = (): Graph =>
      speech
        ? buildReFreeGraph(cfg, plan.refree, provider, size, { dtype: plan.dtype, attention, speechMask: true })
        : buildDitGraph(cfg, provider, size, { dtype: plan.dtype, attention });
    try {
      const r = await timeGraph(ctx, build, stem, attention === 'blockwise');
      const params = countParams(files.dit.specs) + (speech ? countParams(files.refree.specs) : 0);
      return { ...r, attention, attempts, params, tokens: size.frames * (size.h / cfg.patch[1]) * (size.w / cfg.patch[2]), peakRssMiB: rssMiB() };
    } catch (e) {
      ctx.log(`${stem}: ${firstLine(e)}`);
      attempts.push({ attention, error: firstLine(e) });
      if (Date.now() > ctx.deadline) break;
    }
  }
  throw new Error(`no attention form ran: ${attempts.map((a) => `${a.attention}: ${a.error}`).join('; ')}`);
}

// ------------------------------------------------------------------------------------------------
// VAE decode

async function decode(ctx: StageContext, cfg: VaeConfig, provider: WeightProvider, latent: Clip, tag: string, keep = false): Promise<{ pixels: Float32Array; shape: number[]; decodeSeconds: number; sessionSeconds: number; cpuNodes: string | null; runner: VaeRunner }> {
  const { height, width } = ctx.plan.pixels;
  let sessionSeconds = 0;
  let cpuNodes: string | null = null;
  const runner = new VaeRunner(cfg, provider, {
    height,
    width,
    batch: 1,
    attention: 'naive',
    keepSessions: keep,
    compile: async (g: Graph, variant: string): Promise<CompiledGraph> => {
      const t = now();
      const o = await openOnBackend(ctx, g, `${ctx.backend}.${tag}-${variant}.d${cfg.decDim}.${height}x${width}`);
      sessionSeconds += secs(t);
      cpuNodes ??= o.cpuNodes;
      return o.opened.session;
    },
  });
  const t0 = now();
  const out = await runner.decode(latent);
  const total = secs(t0);
  return { pixels: out.data, shape: [...out.shape], decodeSeconds: total - sessionSeconds, sessionSeconds, cpuNodes, runner };
}

function randomLatent(cfg: VaeConfig, plan: CheckPlan): Clip {
  const { frames, h, w } = plan.latent;
  return { data: seededNormal(cfg.zDim * frames * h * w, plan.seed + 11, 1), shape: [1, cfg.zDim, frames, h, w] };
}

async function vae(ctx: StageContext): Promise<StageResult> {
  const cfg = ctx.plan.arch.vae;
  const provider = await FileWeightProvider.open(weightFiles(ctx.plan, ctx.work).vae.file, ctx.work);
  ctx.log('decoding');
  const r = await decode(ctx, cfg, provider, randomLatent(cfg, ctx.plan), 'vae');
  await r.runner.release();
  return {
    decodeSeconds: r.decodeSeconds,
    sessionSeconds: r.sessionSeconds,
    frames: r.shape[2],
    shape: r.shape,
    computeDtype: 'float32',
    weightDtype: 'float16',
    nonFinite: nonFinite(r.pixels),
    cpuNodes: r.cpuNodes,
    peakRssMiB: rssMiB(),
  };
}

// ------------------------------------------------------------------------------------------------
// float16 vs float32

async function precision(ctx: StageContext): Promise<StageResult> {
  const { plan } = ctx;
  const files = weightFiles(plan, ctx.work);
  const provider = await FileWeightProvider.open(files.precisionDit.file, ctx.work);
  const cfg = plan.precision.dit;
  const size = { batch: 1, ...plan.latent };
  const velocities: Record<string, Float32Array> = {};
  const attentionUsed: Record<string, string> = {};
  let feeds16: Record<string, ArrayLike<number>> | null = null;
  for (const dtype of ['float16', 'float32'] as const) {
    const errors: string[] = [];
    for (const attention of attentionForms(ctx)) {
      try {
        const g = buildDitGraph(cfg, provider, size, { dtype, attention });
        const o = await compileInCache(g, ctx.work, `${ctx.backend}.precision-dit.${cfg.dim}x${cfg.layers}.${dtype}.${attention}`, { prefer: ctx.backend, fallback: false, disableCse: attention === 'blockwise' });
        try {
          // Both runs see the same inputs: the float16 values, widened exactly for the float32 graph.
          feeds16 ??= makeFeeds(o.session.inputs.map((io) => ({ ...io, dtype: io.dtype === 'float32' && io.name !== 'timesteps' ? 'float16' : io.dtype })), plan.seed) as Record<string, ArrayLike<number>>;
          const feeds = Object.fromEntries(o.session.inputs.map((io) => [io.name, io.dtype === 'float32' && io.name !== 'timesteps' ? asF32(feeds16![io.name] as Uint16Array) : feeds16![io.name]]));
          ctx.log(`precision: ${dtype} run`);
          velocities[dtype] = asF32(Object.values(await o.session.run(feeds as never))[0]!);
          attentionUsed[dtype] = attention;
        } finally {
          await o.session.release();
        }
        break;
      } catch (e) {
        errors.push(`${attention}: ${firstLine(e)}`);
      }
    }
    if (!velocities[dtype]) throw new Error(`the ${dtype} DiT did not run: ${errors.join('; ')}`);
  }
  const v16 = velocities.float16!;
  const v32 = velocities.float32!;
  // Decode both velocities as latents through the same (float32-compute) VAE: how the DiT's float16
  // error shows in pixels.
  const vcfg = plan.precision.vae;
  const vp = await FileWeightProvider.open(files.precisionVae.file, ctx.work);
  const clip = (d: Float32Array): Clip => ({ data: Float32Array.from(d, (x) => (Number.isFinite(x) ? x : 0)), shape: [1, vcfg.zDim, size.frames, size.h, size.w] });
  ctx.log('precision: decoding both');
  const a = await decode(ctx, vcfg, vp, clip(v16), 'precision-vae', true);
  const b = await decode(ctx, vcfg, vp, clip(v32), 'precision-vae', true);
  await a.runner.release();
  await b.runner.release();
  return {
    dit: { dim: cfg.dim, heads: cfg.heads, ffnDim: cfg.ffnDim, layers: cfg.layers },
    vae: { decDim: vcfg.decDim },
    attention: attentionUsed,
    velocity: { ...compare(v16, v32), nonFiniteFloat16: nonFinite(v16), nonFiniteFloat32: nonFinite(v32) },
    frames: { ...compare(a.pixels, b.pixels), nonFiniteFloat16: nonFinite(a.pixels), nonFiniteFloat32: nonFinite(b.pixels) },
  };
}

// ------------------------------------------------------------------------------------------------

export async function runStage(name: StageName, ctx: StageContext, args: { weights?: string[] } = {}): Promise<StageResult> {
  switch (name) {
    case 'probe':
      return probe(ctx);
    case 'attention':
      return attentionForm(ctx);
    case 'weights':
      return weights(ctx, args.weights ?? ['precisionDit', 'precisionVae', 'dit', 'vae', 'refree']);
    case 'dit':
      return dit(ctx, false);
    case 'ditSpeech':
      return dit(ctx, true);
    case 'vae':
      return vae(ctx);
    case 'precision':
      return precision(ctx);
    case 'loraSft': {
      const files = weightFiles(ctx.plan, ctx.work);
      return runSftStage(ctx, unionProvider([await FileWeightProvider.open(files.dit.file, ctx.work), await FileWeightProvider.open(files.refree.file, ctx.work)]));
    }
  }
}
