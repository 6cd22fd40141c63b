// The masked-speech DPO stage (seed/refree-s2v-paper.md, "Reward-free RL fine-tuning"), started from an
// SFT adapter: the negatives are generated once by the starting policy (negatives.ts); each step takes
// `batch` tuples, noises every member of a tuple with ONE noise at ONE timestep, and minimises
// losses.ts's DPO loss against a reference that is an EMA of the policy (or a frozen copy with
// refDecay 1). Logged per step: loss, implicit accuracy over the ordered pairs, and the policy's and the
// reference's error on the ground truth — if both rise together the policy is drifting away from the
// data while still "winning" the pairs.
import path from 'node:path';
import { CancelledError } from '../common/engine-errors.js';
import { gaussianNoise } from '../generate/noise.js';
import type { Feeds } from '../runtime/session.js';
import { frozenWeights, openTrainBase, startingValues } from './base-model.js';
import type { TrainBase } from './base-model.js';
import type { TrainData } from './data.js';
import { loadTrainData, noisyPair } from './data.js';
import type { TrainHooks } from './events.js';
import { Eta } from './events.js';
import { buildDpoGraph, buildVelocityGraph } from './graphs.js';
import { implicitAccuracy } from './losses.js';
import { dpoItems, itemTuple, negativesKey } from './negatives.js';
import type { Tuple } from './negatives.js';
import { latentLossWeights, noiseStream, shiftedSigma, stepRandom } from './regions.js';
import { PAPER_REGION_WEIGHTS } from './regions.js';
import { loadLatestCheckpoint, openRunFolder, truncateMetrics } from './run-folder.js';
import { runStageLoop } from './stage-loop.js';
import type { DpoSettings } from './settings.js';
import { DPO_DEFAULTS, SettingsError, validateDpo } from './settings.js';
import type { TrainResult, TrainRunOptions } from './sft.js';
import { checkWindow, runRecord } from './sft.js';
import { Stepper, learningRate } from './stepper.js';
import { trainableSet } from './trainable.js';
import { trainAttentionFor } from './estimate.js';
import { compileInCache } from '../model/package/engine-cache.js';

export function dpoSettings(base: TrainBase, given: Partial<DpoSettings> = {}): DpoSettings {
  return validateDpo({ ...DPO_DEFAULTS, shift: base.defaults.shift, ...given } as DpoSettings);
}

/** The feeds of one DPO micro-batch: `batch` tuples, tuple-major. */
function dpoBatch(d: TrainData, tuples: readonly Tuple[], context: Float32Array, s: DpoSettings, step: number, micro: number): { feeds: Feeds; sigmas: number[] } {
  const F = s.frames;
  const C = d.channels;
  const hw = d.h * d.w;
  const n = C * F * hw;
  const K = s.maskRatios.length + 1;
  const Tv = d.stride * (F - 1) + 1;
  const D = d.speechDim;
  const B = s.batch * K;
  const feeds = {
    latents: new Float32Array(B * n),
    target: new Float32Array(B * n),
    weight: new Float32Array(B * F * hw),
    timesteps: new Float32Array(B * F),
    context: new Float32Array(B * context.length),
    speech_features: new Float32Array(B * Tv * D),
    speech_mask: new Float32Array(B * Tv),
    omega: new Float32Array(s.batch).fill(1),
  };
  const rnd = stepRandom(s.seed, step, `dpo-batch-${micro}`);
  const sigmas: number[] = [];
  for (let t = 0; t < s.batch; t++) {
    const tuple = tuples[Math.floor(rnd() * tuples.length)]!;
    const clip = d.clips[tuple.item.clip]!;
    const sigma = shiftedSigma(rnd() * s.maxU, s.shift);
    const eps = gaussianNoise(s.seed, noiseStream(step, `dpo-noise-${micro}-${t}`), n); // one noise per tuple
    const hwF = F * hw;
    const lip = clip.lipMask.slice(tuple.item.start * hw, (tuple.item.start + F) * hw);
    const face = clip.faceMask.slice(tuple.item.start * hw, (tuple.item.start + F) * hw);
    const w = s.weighting === 'regional' ? latentLossWeights(lip, face, F, hw, PAPER_REGION_WEIGHTS, 1) : latentLossWeights(lip, face, F, hw, { lip: 1, face: 1, rest: 1 }, 1);
    const speech = clip.speech.slice(d.stride * tuple.item.start * D, (d.stride * tuple.item.start + Tv) * D);
    for (let k = 0; k < K; k++) {
      const b = t * K + k;
      noisyPair(tuple.latents[k]!, eps, sigma, C, F, hw, feeds.latents.subarray(b * n, (b + 1) * n), feeds.target.subarray(b * n, (b + 1) * n));
      feeds.weight.set(w, b * hwF);
      for (let f = 1; f < F; f++) feeds.timesteps[b * F + f] = sigma * 1000;
      feeds.context.set(context, b * context.length);
      feeds.speech_features.set(speech, b * Tv * D);
    }
    sigmas.push(sigma);
  }
  return { feeds, sigmas };
}

export async function runDpo(opts: TrainRunOptions<DpoSettings>, hooks: TrainHooks = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const emit = hooks.onEvent ?? (() => undefined);
  const cancelled = (): boolean => hooks.signal?.aborted === true;
  emit({ type: 'stage', stage: 'open', message: 'opening the model' });
  const base = await openTrainBase(opts.model);
  if (!base.adapter) emit({ type: 'warning', message: `"${base.name}" is not a fine-tuned adapter: DPO usually starts from the adapter an SFT run wrote (its run folder's adapter/)` });
  const s = dpoSettings(base, opts.settings);
  const set = trainableSet(base.arch.dit, base.refree, s);
  emit({ type: 'stage', stage: 'data', message: 'loading the prepared clips' });
  const data = await loadTrainData(opts.dataset, base.dataHash);
  checkWindow(data, s.frames);
  const runDir = path.resolve(opts.run);
  const record = runRecord('dpo', base, opts.dataset, s, set);
  const { resumed } = await openRunFolder(runDir, record);
  const id = { stage: 'dpo' as const, settingsHash: record.settingsHash, layoutHash: set.layoutHash, baseHash: base.hash };
  const ckpt = resumed ? await loadLatestCheckpoint(runDir, id, set.layout.size) : null;
  if (ckpt) {
    await truncateMetrics(runDir, ckpt.step);
    emit({ type: 'resumed', step: ckpt.step, checkpoint: ckpt.file });
  }
  const startParams = await startingValues(base, set, s.seed);
  const frozen = await frozenWeights(base);
  const attention = trainAttentionFor(s.frames * (data.h / base.arch.dit.patch[1]) * (data.w / base.arch.dit.patch[2]));
  const model = { dit: base.arch.dit, refree: base.refree, set, frozen: frozen.provider, recompute: s.recompute, attention };

  // 1. Negatives from the starting policy (cached; a resumed run reads them back).
  const items = dpoItems(data, s.frames, s.windowsPerClip);
  if (items.length === 0) throw new SettingsError(`no clip has a whole window of ${s.frames} latent frames`);
  const key = negativesKey({ seed: s.seed, frames: s.frames, ratios: s.maskRatios, sampleSteps: s.sampleSteps, shift: s.shift }, startParams);
  emit({ type: 'stage', stage: 'negatives', message: `generating ${items.length} × ${s.maskRatios.length} negatives (masking ${s.maskRatios.map((r) => `${Math.round(r * 100)} %`).join(', ')})` });
  const vg = buildVelocityGraph({ ...model, attention: 'fused', recompute: false }, { batch: 1, frames: s.frames, h: data.h, w: data.w }); // sampling only: the fused inference attention
  const vs = await compileInCache(vg.graph, frozen.dir, `train.velocity.${set.layoutHash.slice(0, 10)}.f${s.frames}h${data.h}w${data.w}`, { outputs: vg.outputs, prefer: opts.backend ?? 'cpu', fallback: opts.backend === undefined, optimization: 'all' });
  const tuples: Tuple[] = [];
  try {
    const eta = new Eta(0);
    for (const [i, item] of items.entries()) {
      if (cancelled()) throw new CancelledError('training was cancelled while generating the DPO negatives (those already generated are kept)');
      tuples.push(await itemTuple(path.join(runDir, 'negatives'), key, data, i, item, { seed: s.seed, frames: s.frames, ratios: s.maskRatios, sampleSteps: s.sampleSteps, shift: s.shift }, base.context, vs.session, startParams, hooks.signal));
      emit({ type: 'progress', phase: 'negatives', done: i + 1, total: items.length, fraction: (i + 1) / items.length, elapsedS: +eta.elapsed().toFixed(2), etaS: eta.eta(i + 1, items.length) });
    }
  } finally {
    await vs.session.release();
  }

  // 2. The DPO steps.
  emit({ type: 'stage', stage: 'compile', message: `building the DPO step (${set.layout.size.toLocaleString('en-US')} trainable parameters, ${s.maskRatios.length + 1} samples per tuple)` });
  const built = buildDpoGraph(model, { tuples: s.batch, k: s.maskRatios.length + 1, frames: s.frames, h: data.h, w: data.w }, { beta: s.beta, weightDecay: s.weightDecay, maxGradNorm: s.maxGradNorm, sftWeight: s.sftWeight });
  const start = ckpt ?? { step: 0, params: Float32Array.from(startParams) };
  const stepper = await Stepper.open(built.graph, built.outputs, frozen.dir, `train.dpo.${set.layoutHash.slice(0, 10)}.t${s.batch}k${s.maskRatios.length + 1}f${s.frames}h${data.h}w${data.w}${s.recompute ? '.rc' : ''}`, start, { prefer: opts.backend ?? 'cpu', fallback: opts.backend === undefined });
  let ref = ckpt?.ref ?? Float32Array.from(startParams);
  try {
    emit({ type: 'stage', stage: 'train', message: `DPO: ${s.steps} steps of ${s.batch}×${s.accumulation} tuples, β ${s.beta}, reference ${s.refDecay === 1 ? 'frozen' : `EMA ${s.refDecay}`}` });
    const loop = { stage: 'dpo' as const, runDir, id, base, set, data, datasetDir: opts.dataset, settings: s, stepper, hooks, extra: () => ({ ref }) };
    const { adapter, last } = await runStageLoop(loop, async (next) => {
      const ts = performance.now();
      const micro = Array.from({ length: s.accumulation }, (_, k) => dpoBatch(data, tuples, base.context, s, next, k));
      const lr = learningRate(next, s.steps, s.lr, s.warmup, s.minLrRatio);
      const r = await stepper.update(
        micro.map((b) => ({ ...b.feeds, ref_params: ref })),
        lr,
      );
      if (s.refDecay < 1) {
        const p = stepper.params;
        const nr = new Float32Array(ref.length);
        for (let i = 0; i < nr.length; i++) nr[i] = s.refDecay * ref[i]! + (1 - s.refDecay) * p[i]!;
        ref = nr;
      }
      // Pairs and ground-truth errors, averaged over every tuple of the update.
      const K = s.maskRatios.length + 1;
      let acc = 0;
      let pe0 = 0;
      let re0 = 0;
      let count = 0;
      for (const out of r.outputs) {
        const pe = out.policy_err as Float32Array;
        const re = out.ref_err as Float32Array;
        for (let t = 0; t < pe.length / K; t++) {
          const rel = Array.from({ length: K }, (_, k) => pe[t * K + k]! - re[t * K + k]!);
          acc += implicitAccuracy(rel);
          pe0 += pe[t * K]!;
          re0 += re[t * K]!;
          count++;
        }
      }
      const sig = micro.flatMap((b) => b.sigmas);
      return {
        step: stepper.step,
        stage: 'dpo',
        loss: +r.loss.toPrecision(6),
        lr: +lr.toPrecision(6),
        seconds: +((performance.now() - ts) / 1000).toFixed(4),
        gradNorm: +r.gradNorm.toPrecision(5),
        sigma: +(sig.reduce((a, b) => a + b, 0) / sig.length).toFixed(4),
        accuracy: +(acc / count).toFixed(4),
        policyErrGt: +(pe0 / count).toPrecision(6),
        refErrGt: +(re0 / count).toPrecision(6),
      };
    });
    return { run: runDir, adapter, steps: stepper.step, resumedFrom: start.step, finalLoss: last?.loss ?? null, seconds: +((performance.now() - t0) / 1000).toFixed(2), parameters: set.layout.size };
  } finally {
    await stepper.release();
  }
}
