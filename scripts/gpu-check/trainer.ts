// The LoRA SFT stage: one training step of the DiT with per-block recomputation, built by the
// product's trainer when this build has one (engine/train, export `buildSftStepGraph`). Without it the
// stage reports "not available in this build" instead of measuring something else.
//
// The builder is called with the options below; what it returns may be a Graph or { graph }. Every
// graph input gets seeded values of its dtype and shape (feeds.ts), so the check does not depend on
// the trainer's input names.
import type { Graph } from '../../engine/graph/graph.js';
import { compileInCache } from '../../engine/model/package/engine-cache.js';
import type { WeightProvider } from '../../engine/model/weight-provider.js';
import { asF32, makeFeeds, nonFinite } from './feeds.js';
import type { StageContext, StageResult } from './stages.js';
import { TRAINER_EXPORT, loadTrainerModule } from './trainer-entry.js';

export interface Trainer {
  build: ((options: Record<string, unknown>) => unknown) | null;
  file: string | null;
  reason: string | null;
}

export async function findTrainer(): Promise<Trainer> {
  const { module, file } = await loadTrainerModule();
  const fn = module?.[TRAINER_EXPORT];
  if (typeof fn === 'function') return { build: fn as Trainer['build'], file, reason: null };
  return { build: null, file, reason: `not available in this build (no engine/train module exports ${TRAINER_EXPORT})` };
}

function asGraph(r: unknown): Graph {
  const g = (r && typeof r === 'object' && 'graph' in r ? (r as { graph: unknown }).graph : r) as Graph | undefined;
  if (!g || typeof g !== 'object' || !Array.isArray((g as Graph).inputs) || !Array.isArray((g as Graph).outputs)) {
    throw new Error(`${TRAINER_EXPORT} returned neither a Graph nor { graph }`);
  }
  return g;
}

export async function runSftStage(ctx: StageContext, trainer: Trainer, base: WeightProvider): Promise<StageResult> {
  const { plan } = ctx;
  const size = { batch: 1, ...plan.latent };
  let t = performance.now();
  const g = asGraph(
    await trainer.build!({
      dit: plan.arch.dit,
      refree: plan.refree,
      provider: base,
      size,
      dtype: plan.dtype,
      lora: { rank: plan.lora.rank },
      recompute: 'per-block',
      attention: 'blockwise',
    }),
  );
  const buildSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const opened = await compileInCache(g, ctx.work, `${ctx.backend}.sft.${plan.arch.dit.dim}x${plan.arch.dit.layers}.r${plan.lora.rank}`, {
    prefer: ctx.backend,
    fallback: false,
    optimization: 'basic',
    disableCse: true,
    memPattern: false,
  });
  const sessionSeconds = (performance.now() - t) / 1000;
  const s = opened.session;
  try {
    const feeds = makeFeeds(s.inputs, plan.seed);
    ctx.log(`sft: session open in ${sessionSeconds.toFixed(1)} s; first step`);
    t = performance.now();
    let r = await s.run(feeds);
    const firstStepSeconds = (performance.now() - t) / 1000;
    let stepSeconds: number | null = null;
    if (Date.now() + firstStepSeconds * 1200 < ctx.deadline) {
      t = performance.now();
      r = await s.run(feeds);
      stepSeconds = (performance.now() - t) / 1000;
    }
    const outs = Object.values(r).map(asF32);
    return {
      trainer: trainer.file,
      rank: plan.lora.rank,
      recompute: 'per-block',
      buildSeconds,
      sessionSeconds,
      firstStepSeconds,
      stepSeconds,
      nonFinite: outs.reduce((n, o) => n + nonFinite(o), 0),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await s.release();
  }
}
