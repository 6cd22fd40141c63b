// The SFT stage (seed/refree-s2v-paper.md, "Training details"): flow-matching velocity loss with the
// regional weights, LoRA on the DiT linears plus the ReFree speech modules trained in full, AdamW with
// warm-up + cosine decay, gradient clipping and accumulation, checkpoints every N steps and on cancel,
// resume after a kill, metrics as JSON lines, samples every N steps, and an adapter package at the end.
import path from 'node:path';
import type { Backend } from '../runtime/session.js';
import { frozenWeights, openTrainBase, startingValues } from './base-model.js';
import type { TrainBase } from './base-model.js';
import { loadTrainData, maxWindowFrames, sftBatch } from './data.js';
import type { TrainData } from './data.js';
import type { TrainHooks } from './events.js';
import { buildSftGraph } from './graphs.js';
import type { RunRecord } from './run-folder.js';
import { loadLatestCheckpoint, openRunFolder, settingsHash, truncateMetrics } from './run-folder.js';
import { runStageLoop } from './stage-loop.js';
import type { SftSettings } from './settings.js';
import { ANCHORED_MODEL_SHARE, SFT_DEFAULTS, SettingsError, validateSft } from './settings.js';
import { Stepper, learningRate } from './stepper.js';
import { trainableSet } from './trainable.js';
import { datasetFaceBoosts } from './face-contrast.js';
import { trainAttentionFor } from './estimate.js';
import type { TrainableSet } from './trainable.js';

export interface TrainRunOptions<S> {
  /** Prepared dataset folder (`refree train prepare`). */
  dataset: string;
  /** Model package to train (a base package, or an adapter to continue from). */
  model: string;
  /** Run folder (created, or resumed when it holds this run). */
  run: string;
  settings?: Partial<S>;
  backend?: Backend;
}

export interface TrainResult {
  run: string;
  adapter: string;
  steps: number;
  resumedFrom: number;
  finalLoss: number | null;
  seconds: number;
  parameters: number;
}

/**
 * Settings with defaults filled in; the shift defaults to the package's sampler shift, and a package that
 * samples with the portrait anchor goes on training for it (a fine-tune without anchored windows would
 * slowly unlearn what its later chunks rely on).
 */
export function sftSettings(base: TrainBase, given: Partial<SftSettings> = {}): SftSettings {
  const anchorShare = base.defaults.portraitAnchor ? ANCHORED_MODEL_SHARE : SFT_DEFAULTS.anchorShare;
  return validateSft({ ...SFT_DEFAULTS, shift: base.defaults.shift, anchorShare, ...given } as SftSettings);
}

export function runRecord(stage: 'sft' | 'dpo', base: TrainBase, dataset: string, settings: object, set: TrainableSet): RunRecord {
  const s = settings as Record<string, unknown> & { lora: unknown; ditGroups: string[] };
  return {
    format: 'refree-train-run/1',
    stage,
    created: new Date().toISOString(),
    settings: s,
    settingsHash: settingsHash({ ...s, startFrom: base.adapter?.dir ?? null }),
    base: { name: base.name, dir: base.dir, hash: base.hash },
    dataset: path.resolve(dataset),
    layoutHash: set.layoutHash,
    trainable: { parameters: set.layout.size, lora: s.lora, ditGroups: s.ditGroups },
    init: base.adapter ? { adapter: base.adapter.dir } : null,
  };
}

export function checkWindow(data: TrainData, frames: number): void {
  const most = maxWindowFrames(data);
  if (frames > most) throw new SettingsError(`a training window of ${frames} latent frames is longer than the shortest prepared clip (${most} latent frames): use --frames ${most} or fewer, or longer clips`);
}

export async function runSft(opts: TrainRunOptions<SftSettings>, hooks: TrainHooks = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const emit = hooks.onEvent ?? (() => undefined);
  emit({ type: 'stage', stage: 'open', message: 'opening the model' });
  const base = await openTrainBase(opts.model);
  const s = sftSettings(base, opts.settings);
  const set = trainableSet(base.arch.dit, base.refree, s);
  emit({ type: 'stage', stage: 'data', message: 'loading the prepared clips' });
  const data = await loadTrainData(opts.dataset, base.dataHash);
  checkWindow(data, s.frames);
  if (s.faceBalance !== undefined) data.faceBoost = await datasetFaceBoosts(opts.dataset, base.dataHash, data, s.faceBalance);
  const runDir = path.resolve(opts.run);
  const { resumed } = await openRunFolder(runDir, runRecord('sft', base, opts.dataset, s, set));
  const id = { stage: 'sft' as const, settingsHash: runRecord('sft', base, opts.dataset, s, set).settingsHash, layoutHash: set.layoutHash, baseHash: base.hash };
  const ckpt = resumed ? await loadLatestCheckpoint(runDir, id, set.layout.size) : null;
  if (ckpt) {
    await truncateMetrics(runDir, ckpt.step);
    emit({ type: 'resumed', step: ckpt.step, checkpoint: ckpt.file });
  }
  const start = ckpt ?? { step: 0, params: await startingValues(base, set, s.seed) };

  emit({ type: 'stage', stage: 'compile', message: `building the training step (${set.layout.size.toLocaleString('en-US')} trainable parameters)` });
  const frozen = await frozenWeights(base);
  const shape = { batch: s.batch, frames: s.frames, h: data.h, w: data.w };
  const attention = trainAttentionFor(s.frames * (data.h / base.arch.dit.patch[1]) * (data.w / base.arch.dit.patch[2]));
  const built = buildSftGraph({ dit: base.arch.dit, refree: base.refree, set, frozen: frozen.provider, recompute: s.recompute, attention }, shape, { weightDecay: s.weightDecay, maxGradNorm: s.maxGradNorm });
  const stepper = await Stepper.open(built.graph, built.outputs, frozen.dir, `train.sft.${set.layoutHash.slice(0, 10)}.b${s.batch}f${s.frames}h${data.h}w${data.w}${s.recompute ? '.rc' : ''}`, start, { prefer: opts.backend ?? 'cpu', fallback: opts.backend === undefined });
  try {
    emit({ type: 'stage', stage: 'train', message: `SFT: ${s.steps} steps of ${s.batch}×${s.accumulation} windows of ${s.frames} latent frames` });
    const loop = { stage: 'sft' as const, runDir, id, base, set, data, datasetDir: opts.dataset, settings: s, stepper, hooks };
    const { adapter, last } = await runStageLoop(loop, async (next) => {
      const ts = performance.now();
      const micro = Array.from({ length: s.accumulation }, (_, k) => sftBatch(data, base.context, s, next, k));
      const lr = learningRate(next, s.steps, s.lr, s.warmup, s.minLrRatio);
      const r = await stepper.update(
        micro.map((b) => b.feeds),
        lr,
      );
      const sig = micro.flatMap((b) => b.sigmas);
      return { step: stepper.step, stage: 'sft', loss: +r.loss.toPrecision(6), lr: +lr.toPrecision(6), seconds: +((performance.now() - ts) / 1000).toFixed(4), gradNorm: +r.gradNorm.toPrecision(5), sigma: +(sig.reduce((a, b) => a + b, 0) / sig.length).toFixed(4) };
    });
    return { run: runDir, adapter, steps: stepper.step, resumedFrom: start.step, finalLoss: last?.loss ?? null, seconds: +((performance.now() - t0) / 1000).toFixed(2), parameters: set.layout.size };
  } finally {
    await stepper.release();
  }
}
