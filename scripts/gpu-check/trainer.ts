// The LoRA SFT stage: one training step of the product's trainer (engine/train/graphs.ts
// buildSftGraph: regional velocity loss, gradient, AdamW) on the plan's model, LoRA on the DiT linears
// plus the ReFree speech modules, with per-block recomputation, opened the way the trainer's Stepper
// opens it. Every graph input gets seeded values of its dtype and shape (feeds.ts).
import { compileInCache } from '../../engine/model/package/engine-cache.js';
import type { WeightProvider } from '../../engine/model/weight-provider.js';
import { buildSftGraph } from '../../engine/train/graphs.js';
import { trainableSet } from '../../engine/train/trainable.js';
import { asF32, makeFeeds, nonFinite } from './feeds.js';
import type { StageContext, StageResult } from './stages.js';

/** The trainer's rule (engine/train/estimate.ts): naive attention keeps T×T per head, so long sequences train blockwise. */
const BLOCKWISE_FROM_TOKENS = 1024;

/**
 * The step in the plan's dtype (float16); if that does not build, open or run, the error is kept and
 * the step is measured again with float32 activations, so the stage still says what a step costs.
 */
export async function runSftStage(ctx: StageContext, frozen: WeightProvider): Promise<StageResult> {
  try {
    return await sftStep(ctx, frozen, ctx.plan.dtype);
  } catch (e) {
    const error = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    ctx.log(`sft in ${ctx.plan.dtype} failed (${error}); measuring float32 activations instead`);
    if (Date.now() > ctx.deadline - 5000) throw e;
    return { ...(await sftStep(ctx, frozen, 'float32')), [`${ctx.plan.dtype}Error`]: error };
  }
}

async function sftStep(ctx: StageContext, frozen: WeightProvider, dtype: 'float16' | 'float32'): Promise<StageResult> {
  const { plan } = ctx;
  const dit = plan.arch.dit;
  const shape = { batch: 1, ...plan.latent };
  const tokens = (shape.frames / dit.patch[0]) * (shape.h / dit.patch[1]) * (shape.w / dit.patch[2]);
  const attention = tokens > BLOCKWISE_FROM_TOKENS ? 'blockwise' : 'naive';
  const lora = { rank: plan.lora.rank, alpha: plan.lora.rank, targets: ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] };
  let t = performance.now();
  const set = trainableSet(dit, plan.refree, { lora, ditGroups: [] });
  const built = buildSftGraph({ dit, refree: plan.refree, set, frozen, dtype, attention, recompute: true }, shape);
  const buildSeconds = (performance.now() - t) / 1000;
  ctx.log(`sft: graph of ${built.graph.nodes.length} nodes built in ${buildSeconds.toFixed(1)} s (${set.layout.size} trainable values, ${attention} attention)`);
  t = performance.now();
  const opened = await compileInCache(built.graph, ctx.work, `${ctx.backend}.sft.${dit.dim}x${dit.layers}.r${lora.rank}.f${shape.frames}-${shape.h}x${shape.w}.${dtype}`, {
    prefer: ctx.backend,
    fallback: false,
    optimization: 'basic',
    disableCse: true,
    memPattern: false,
    outputs: built.outputs,
  });
  const sessionSeconds = (performance.now() - t) / 1000;
  ctx.partial({ dtype, attention, nodes: built.graph.nodes.length, buildSeconds, sessionSeconds });
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
    const loss = r.loss ? asF32(r.loss)[0]! : null;
    return {
      available: true,
      dtype,
      builder: 'engine/train/graphs.ts buildSftGraph',
      rank: lora.rank,
      trainableValues: set.layout.size,
      attention,
      recompute: true,
      nodes: built.graph.nodes.length,
      buildSeconds,
      sessionSeconds,
      firstStepSeconds,
      stepSeconds,
      loss,
      nonFinite: Object.values(r).reduce((n, o) => n + nonFinite(asF32(o)), 0),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await s.release();
  }
}
