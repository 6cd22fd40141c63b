// `refree train vae`: trains a small Wan2.2-style VAE from scratch on synthetic clips. The step is one
// graph (graph.ts) run by the trainer's Stepper (AdamW, clipping, warm-up + cosine); the run is a
// folder like the SFT/DPO runs (run.json, metrics.jsonl, checkpoints/ via run-folder.ts), so a killed
// run resumes from its last checkpoint with the same batches. At the end the latent statistics are
// measured and folded into the weights (finish.ts), the reconstruction PSNR is measured (whole frame
// and mouth), and the run folder gets:
//   vae.safetensors   the VAE weights (official names), normalisation folded in
//   vae.json          config, statistics, quality, steps, seconds
// Decoder-only runs (`decoderOnly`, from a finished VAE given as `init`) keep that VAE's encoder as
// constants and train its decoder alone — possibly a wider one than it had (the spec's decDim): the
// latent space, and so every dataset and DiT made with that encoder, stays valid, and no statistics
// are folded again (the encoder already outputs normalised latents).
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CancelledError } from '../../common/engine-errors.js';
import type { VaeConfig } from '../../model/config.js';
import { vaeParams } from '../../model/inventory/vae.js';
import { randomWeights } from '../../model/random-weights.js';
import { latentFrameCount, latentSize, temporalFactor } from '../../model/vae/geometry.js';
import type { LatentStats } from '../../model/vae/latent-stats.js';
import { SafetensorsFile, writeSafetensors } from '../../model/weights/safetensors.js';
import type { Backend, Feeds } from '../../runtime/session.js';
import type { TrainHooks } from '../events.js';
import { Eta } from '../events.js';
import type { RunRecord, StepMetrics } from '../run-folder.js';
import { appendMetrics, loadLatestCheckpoint, openRunFolder, saveCheckpoint, settingsHash, truncateMetrics, writeAtomic } from '../run-folder.js';
import { SettingsError } from '../settings.js';
import { Stepper, learningRate } from '../stepper.js';
import { gaussianNoise } from '../../generate/noise.js';
import { noiseStream, stepRandom } from '../regions.js';
import type { VaeClip } from './data.js';
import { loadVaeClips, vaeBatch } from './data.js';
import type { ReconQuality } from './finish.js';
import { VaeCodec, evalWindows, foldLatentStats, measureLatentStats, reconQuality, weightMap } from './finish.js';
import { buildVaeTrainGraph, vaeDecoderLayout, vaeLayout } from './graph.js';
import type { WeightEntry } from '../../model/weight-provider.js';
import type { ParamLayout } from '../../graph/params.js';

export interface VaeSettings {
  vae: VaeConfig;
  /** Square training size in pixels. */
  size: number;
  seed: number;
  steps: number;
  /** Clips per update. */
  batch: number;
  /** Pixel frames per clip window (s·n + 1). */
  frames: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Extra loss weight inside the (grown) lip ellipse and inside the face ellipse. */
  lipWeight: number;
  faceWeight: number;
  /**
   * Extra loss weight on the face's edges (eyes, brows, lip lines), relative to the face's own contrast
   * and raised for low-contrast faces (data.ts, addDetailWeight): keeps darker faces' features as sharp as
   * lighter ones'. 0: none.
   */
  detailWeight: number;
  latentReg: number;
  /** Train the decoder alone against the frozen encoder of `init` (see the file comment). */
  decoderOnly: boolean;
  /**
   * Decoder-only: each window's latent gets Gaussian noise of standard deviation u·latentNoise (u uniform
   * in [0, 1) per window; latents are normalised, std ≈ 1) before decoding, so the decoder draws clean
   * frames from the slightly-off latents a DiT samples. 0: none.
   */
  latentNoise: number;
  /** Training clips read (in name order), and frames read per clip. */
  maxClips: number;
  maxFrames: number;
  checkpointEvery: number;
}

export const VAE_DEFAULTS: Omit<VaeSettings, 'vae'> = {
  size: 128,
  seed: 0,
  steps: 2000,
  batch: 2,
  frames: 5,
  lr: 2e-3,
  warmup: 50,
  minLrRatio: 0.05,
  weightDecay: 0,
  maxGradNorm: 1,
  lipWeight: 20,
  faceWeight: 2,
  detailWeight: 0,
  latentReg: 1e-4,
  decoderOnly: false,
  latentNoise: 0,
  maxClips: 120,
  maxFrames: 60,
  checkpointEvery: 50,
};

export interface VaeRunOptions {
  clips: string;
  /** Start from these VAE weights (e.g. an earlier run's vae.safetensors) instead of random ones. */
  init?: string;
  /** Run folder (created, or resumed when it holds this run). */
  out: string;
  settings: Partial<VaeSettings> & { vae: VaeConfig };
  /** Held-out clips for the final quality numbers (default: the training clips). */
  evalClips?: string;
  backend?: Backend;
}

export interface VaeRunResult {
  run: string;
  weights: string;
  steps: number;
  resumedFrom: number;
  finalLoss: number | null;
  seconds: number;
  parameters: number;
  stats: LatentStats;
  train: ReconQuality;
  heldout: ReconQuality | null;
}

export const VAE_WEIGHTS_FILE = 'vae.safetensors';
export const VAE_INFO_FILE = 'vae.json';

export function validateVae(s: VaeSettings): VaeSettings {
  const int = (v: number, name: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new SettingsError(`${name} must be a whole number of at least ${min} (got ${v})`);
  };
  int(s.steps, 'steps', 1);
  int(s.batch, 'batch', 1);
  int(s.maxClips, 'max clips', 1);
  int(s.checkpointEvery, 'checkpoint interval', 1);
  int(s.warmup, 'warm-up steps', 0);
  int(s.seed, 'seed', 0);
  const f = temporalFactor(s.vae);
  if (!Number.isInteger(s.frames) || s.frames < 1 || (s.frames - 1) % f !== 0) throw new SettingsError(`frames must be ${f}·n + 1 for this VAE (${[1 + f, 1 + 2 * f, 1 + 4 * f].join(', ')}, ...), got ${s.frames}`);
  int(s.maxFrames, 'max frames', s.frames);
  latentSize(s.vae, s.size, s.size);
  if (!(s.lr > 0 && s.lr < 1)) throw new SettingsError(`the learning rate must lie between 0 and 1 (got ${s.lr})`);
  if (!(s.lipWeight >= 0 && s.faceWeight >= 0 && s.detailWeight >= 0 && s.latentReg >= 0)) throw new SettingsError('the lip, face and detail weights and the latent regulariser must be ≥ 0');
  if (!(s.latentNoise >= 0 && Number.isFinite(s.latentNoise))) throw new SettingsError(`the latent noise must be a number ≥ 0 (got ${s.latentNoise})`);
  // A trained encoder would scale its latents up until the noise no longer mattered.
  if (s.latentNoise > 0 && !s.decoderOnly) throw new SettingsError('latent noise trains a decoder against a fixed latent space: use it with --decoder-only');
  return s;
}

/**
 * The settings a run folder records and hashes. The starting weights and the detail weight count only
 * when given, so runs without them keep the hash they had before these options existed and still resume.
 */
export function recordedSettings(s: VaeSettings, init?: string): Record<string, unknown> {
  const { detailWeight, ...rest } = s;
  return { ...rest, ...(detailWeight > 0 ? { detailWeight } : {}), ...(init ? { init: path.resolve(init) } : {}) };
}

function vaeHash(cfg: VaeConfig): string {
  return createHash('sha256').update(JSON.stringify(cfg)).digest('hex');
}

export async function runVaeTraining(opts: VaeRunOptions, hooks: TrainHooks = {}): Promise<VaeRunResult> {
  const t0 = performance.now();
  const emit = hooks.onEvent ?? (() => undefined);
  const s = validateVae({ ...VAE_DEFAULTS, ...opts.settings });
  if (s.decoderOnly && !opts.init) throw new SettingsError('decoder-only training needs the finished VAE whose encoder it keeps: give --init <run>/vae.safetensors');
  const full = vaeLayout(s.vae);
  const layout = s.decoderOnly ? vaeDecoderLayout(s.vae) : full;
  // Decoder-only: `init` is read once; its encoder is frozen into the graph, and its decoder is the
  // starting point when it has this run's shape (a wider decoder starts afresh).
  const initWeights = s.decoderOnly ? await readInit(opts.init!, full, (name) => !layout.has(name)) : null;
  const frozen = initWeights && new Map([...initWeights].filter(([name]) => !layout.has(name)));
  emit({ type: 'stage', stage: 'data', message: `reading up to ${s.maxClips} clips at ${s.size}×${s.size}` });
  const clips = await loadVaeClips(opts.clips, { size: s.size, minFrames: s.frames, maxClips: s.maxClips, maxFrames: s.maxFrames, signal: hooks.signal });
  const runDir = path.resolve(opts.out);
  const hash = vaeHash(s.vae);
  const given = recordedSettings(s, opts.init);
  const record: RunRecord = {
    format: 'refree-train-run/1',
    stage: 'vae',
    created: new Date().toISOString(),
    settings: given,
    settingsHash: settingsHash(given),
    base: { name: 'vae (from scratch)', dir: '', hash },
    dataset: path.resolve(opts.clips),
    layoutHash: hash,
    trainable: { parameters: layout.size, lora: null, ditGroups: [] },
    init: null,
  };
  const { resumed } = await openRunFolder(runDir, record);
  const id = { stage: 'vae' as const, settingsHash: record.settingsHash, layoutHash: hash, baseHash: hash };
  const ckpt = resumed ? await loadLatestCheckpoint(runDir, id, layout.size) : null;
  if (ckpt) {
    await truncateMetrics(runDir, ckpt.step);
    emit({ type: 'resumed', step: ckpt.step, checkpoint: ckpt.file });
  }
  const init = async (): Promise<Float32Array> => {
    const flat = new Float32Array(layout.size);
    const read = initWeights ?? (opts.init ? await readInit(opts.init, layout, () => true) : null);
    const given = read && layout.entries.every((e) => read.has(e.name)) ? read : randomWeights(vaeParams(s.vae), s.seed + 1);
    for (const e of layout.entries) flat.set((given.get(e.name)!.data as { data: Float32Array }).data, e.offset);
    return flat;
  };
  const start = ckpt ?? { step: 0, params: await init() };
  emit({ type: 'stage', stage: 'compile', message: `building the VAE training step (${layout.size.toLocaleString('en-US')} parameters)` });
  const built = buildVaeTrainGraph(s.vae, layout, { batch: s.batch, frames: s.frames, size: s.size, latentNoise: s.latentNoise > 0 }, { latentReg: s.latentReg, weightDecay: s.weightDecay, maxGradNorm: s.maxGradNorm }, frozen);
  const cacheDir = path.join(runDir, 'engine');
  await mkdir(cacheDir, { recursive: true });
  const stepper = await Stepper.open(built.graph, built.outputs, cacheDir, `vae${s.decoderOnly ? '-decoder' : ''}.b${s.batch}f${s.frames}s${s.size}`, start, { prefer: opts.backend ?? 'cpu', fallback: opts.backend === undefined });
  const save = async (): Promise<void> => {
    const file = await saveCheckpoint(runDir, id, { step: stepper.step, params: stepper.params, m: stepper.m, v: stepper.v });
    emit({ type: 'checkpoint', step: stepper.step, file });
  };
  let last: StepMetrics | null = null;
  try {
    emit({ type: 'stage', stage: 'train', message: `VAE${s.decoderOnly ? ' decoder (encoder frozen)' : ''}: ${s.steps} steps of ${s.batch} windows of ${s.frames} frames from ${clips.length} clips` });
    const eta = new Eta(stepper.step);
    while (stepper.step < s.steps) {
      if (hooks.signal?.aborted) {
        await save();
        throw new CancelledError(`VAE training was paused at step ${stepper.step} of ${s.steps}; the checkpoint is saved and the same command resumes from it`);
      }
      const ts = performance.now();
      const next = stepper.step + 1;
      const b = vaeBatch(clips, s.seed, next, s.batch, s.frames, s.size, { lip: s.lipWeight, face: s.faceWeight, detail: s.detailWeight });
      const lr = learningRate(next, s.steps, s.lr, s.warmup, s.minLrRatio);
      const feeds: Feeds = { pixels: b.pixels, weight: b.weight };
      if (s.latentNoise > 0) feeds.latent_noise = latentNoise(s, next);
      const r = await stepper.update([feeds], lr);
      const mse = (r.outputs[0]!.mse as Float32Array)[0]!;
      last = { step: stepper.step, stage: 'vae', loss: +r.loss.toPrecision(6), lr: +lr.toPrecision(6), seconds: +((performance.now() - ts) / 1000).toFixed(4), gradNorm: +r.gradNorm.toPrecision(5), mse: +mse.toPrecision(6), psnr: +(10 * Math.log10(4 / Math.max(mse, 1e-12))).toFixed(2) };
      await appendMetrics(runDir, last);
      emit({ type: 'progress', phase: 'train', done: stepper.step, total: s.steps, fraction: stepper.step / s.steps, elapsedS: +eta.elapsed().toFixed(2), etaS: eta.eta(stepper.step, s.steps), metrics: last });
      if (stepper.step % s.checkpointEvery === 0 || stepper.step === s.steps) await save();
    }
  } finally {
    await stepper.release();
  }
  emit({ type: 'stage', stage: 'adapter', message: 'measuring the latent statistics and the reconstruction quality' });
  const fin = await finishVae(runDir, s, full, frozen ? joinWeights(full, frozen, layout, stepper.params) : stepper.params, clips, opts.evalClips);
  return { run: runDir, weights: fin.weights, steps: stepper.step, resumedFrom: start.step, finalLoss: last?.loss ?? null, seconds: +((performance.now() - t0) / 1000).toFixed(2), parameters: layout.size, stats: fin.stats, train: fin.train, heldout: fin.heldout };
}

/** The latent noise of step `step`: window b gets N(0, 1)·u_b·latentNoise, u_b ~ U(0, 1), drawn from (seed, step). */
function latentNoise(s: VaeSettings, step: number): Float32Array {
  const { height, width } = latentSize(s.vae, s.size, s.size);
  const per = s.vae.zDim * latentFrameCount(s.vae, s.frames) * height * width;
  const out = gaussianNoise(s.seed, noiseStream(step, 'vae-latent-noise'), s.batch * per);
  const u = stepRandom(s.seed, step, 'vae-latent-noise-level');
  for (let b = 0; b < s.batch; b++) {
    const scale = u() * s.latentNoise;
    for (let i = b * per; i < (b + 1) * per; i++) out[i] = out[i]! * scale;
  }
  return out;
}

/** Statistics, folding, quality, and the two result files. */
async function finishVae(runDir: string, s: VaeSettings, layout: ParamLayout, params: Float32Array, clips: readonly VaeClip[], evalDir?: string): Promise<{ weights: string; stats: LatentStats; train: ReconQuality; heldout: ReconQuality | null }> {
  const frames = s.frames;
  const lat = latentFrameCount(s.vae, frames);
  const raw = await VaeCodec.open(s.vae, weightMap(layout, params), frames, s.size, lat);
  let stats: LatentStats;
  try {
    stats = await measureLatentStats(raw, evalWindows(clips, frames, 4), frames, s.size, s.vae.zDim);
  } finally {
    await raw.release();
  }
  // A frozen encoder already outputs normalised latents: its statistics are reported, not folded again.
  const folded = s.decoderOnly ? params : foldLatentStats(s.vae, layout, params, stats);
  const codec = await VaeCodec.open(s.vae, weightMap(layout, folded), frames, s.size, lat);
  let train: ReconQuality;
  let heldout: ReconQuality | null = null;
  try {
    train = await reconQuality(codec, evalWindows(clips.slice(0, 16), frames, 2), frames, s.size);
    if (evalDir) {
      const held = await loadVaeClips(evalDir, { size: s.size, minFrames: frames, maxClips: 16, maxFrames: s.maxFrames });
      heldout = await reconQuality(codec, evalWindows(held, frames, 2), frames, s.size);
    }
  } finally {
    await codec.release();
  }
  const weights = path.join(runDir, VAE_WEIGHTS_FILE);
  await writeSafetensors(
    weights,
    layout.entries.map((e) => ({ name: e.name, dtype: 'F32' as const, shape: e.shape, data: Float32Array.from(layout.view(folded, e.name)) })),
    { metadata: { generator: 'refree train vae', normalisation: 'latent statistics folded into conv1/conv2' } },
  );
  await writeAtomic(path.join(runDir, VAE_INFO_FILE), `${JSON.stringify({ config: s.vae, size: s.size, stats, train, heldout, steps: s.steps }, null, 2)}\n`);
  return { weights, stats, train, heldout };
}

/**
 * The weights of `layout` that a VAE file holds with the right size. A `required` one that is missing
 * or of another size is an error; the others are left out.
 */
async function readInit(file: string, layout: ParamLayout, required: (name: string) => boolean): Promise<Map<string, WeightEntry>> {
  const st = await SafetensorsFile.open(file).catch((e: Error) => {
    throw new SettingsError(`the starting weights ${file} cannot be read (${e.message}): give an earlier run's vae.safetensors`);
  });
  const out = new Map<string, WeightEntry>();
  try {
    for (const e of layout.entries) {
      if (!st.has(e.name)) {
        if (required(e.name)) throw new SettingsError(`the starting weights ${file} lack "${e.name}": they belong to another VAE configuration`);
        continue;
      }
      const v = await st.readF32(e.name);
      if (v.length !== e.size) {
        if (required(e.name)) throw new SettingsError(`"${e.name}" in ${file} has ${v.length} values, this VAE needs ${e.size}`);
        continue;
      }
      out.set(e.name, { dtype: 'float32', shape: e.shape, data: { kind: 'inline', data: v } });
    }
  } finally {
    await st.close();
  }
  return out;
}

/** The whole VAE's flat weights: the frozen ones plus the trained `part`. */
function joinWeights(full: ParamLayout, frozen: ReadonlyMap<string, WeightEntry>, part: ParamLayout, params: Float32Array): Float32Array {
  const flat = new Float32Array(full.size);
  for (const e of full.entries) flat.set(part.has(e.name) ? part.view(params, e.name) : ((frozen.get(e.name)!.data as { data: Float32Array }).data), e.offset);
  return flat;
}

/** The result of a finished run, or null when it has not finished. */
export async function readVaeResult(runDir: string): Promise<{ config: VaeConfig; stats: LatentStats; train: ReconQuality; heldout: ReconQuality | null } | null> {
  const text = await readFile(path.join(runDir, VAE_INFO_FILE), 'utf8').catch(() => null);
  return text ? JSON.parse(text) : null;
}
