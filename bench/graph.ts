// `npm run bench -- graph [--json] [--quick] [--threads N] [--reps N] [--train-opt LEVEL] [--no-fused]`
//
// How close the graph engine gets to the machine's matmul ceiling on CPU, in ONE run:
// - matmulGflops: one large fp32 MatMul (2048³, weight as an initializer so ORT pre-packs it, as it
//   does for model weights), best of N runs: the ceiling.
// - forwardGflops: the forward of a DiT-like block stack (nn/dit.ts: adaLN modulation, self-attention
//   with q/k RMSNorm, cross-attention, tanh-GELU FFN) at dim 1024 (8 heads of 128, as in Wan),
//   1024 tokens, 256 context rows, ffn 4096, 4 blocks; FLOPs are counted analytically over every
//   matmul including both attention products (nn/dit.ts ditFlops). Norms, softmax and GELU count as
//   zero FLOPs, so they can only lower the figure.
// - forwardOfCeiling = forwardGflops / matmulGflops (target ≥ 0.70).
// - loraStepOverForward: one LoRA training step (fwd + bwd + AdamW in one session; rank 16 on the Wan
//   targets q/k/v/o of both attentions and both FFN linears) over one forward at the same shapes
//   (target ≤ 3.0).
// The figures are ratios within one run on one machine, so noise from other processes largely cancels,
// but not entirely: run on an idle machine for numbers to quote. Timings include the JS↔ORT copies.
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { Graph } from '../engine/graph/graph.js';
import type { Tensor } from '../engine/graph/graph.js';
import { InitializerParams, fillInit, normalInit } from '../engine/graph/params.js';
import type { ParamSource } from '../engine/graph/params.js';
import { matmul } from '../engine/graph/ops/matmul.js';
import { mul, sub } from '../engine/graph/ops/elementwise.js';
import { reduceMean } from '../engine/graph/ops/reduce.js';
import type { AttentionImpl } from '../engine/graph/ops/attention.js';
import type { DitConfig } from '../engine/graph/nn/dit.js';
import { WAN_LORA_TARGETS, ditFlops, ditStack } from '../engine/graph/nn/dit.js';
import type { Weights } from '../engine/graph/nn/lora.js';
import { Trainer, buildTrainGraph } from '../engine/graph/nn/train-step.js';
import { CompiledGraph } from '../engine/runtime/session.js';
import type { SessionOptions } from '../engine/runtime/session.js';

interface Shapes {
  matmul: number;
  dit: DitConfig;
  tokens: number;
  contextTokens: number;
  loraRank: number;
}

const FULL: Shapes = { matmul: 2048, dit: { dim: 1024, heads: 8, ffnDim: 4096, layers: 4, eps: 1e-6 }, tokens: 1024, contextTokens: 256, loraRank: 16 };
/** Seconds, for a smoke test of the harness; its ratios mean little (overheads dominate). */
const QUICK: Shapes = { matmul: 256, dit: { dim: 128, heads: 2, ffnDim: 256, layers: 2, eps: 1e-6 }, tokens: 128, contextTokens: 32, loraRank: 4 };

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function randomArray(n: number, seed: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  fillInit(a, normalInit(std), seed, 'bench');
  return a;
}

/** Best (minimum) wall time of `reps` calls after one warm-up call, in seconds. */
async function bestOf(reps: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

async function matmulCeiling(n: number, reps: number, so: SessionOptions): Promise<{ seconds: number; gflops: number }> {
  const g = new Graph('bench-matmul');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.initializer('b', 'float32', [n, n], { kind: 'inline', data: randomArray(n * n, 2, 1 / Math.sqrt(n)) });
  const s = await CompiledGraph.fromGraph(g, { ...so, outputs: [g.alias(matmul(a, b), 'y')], optimization: 'all' });
  const feeds = { a: randomArray(n * n, 1) };
  const seconds = await bestOf(reps, () => s.run(feeds));
  await s.release();
  return { seconds, gflops: (2 * n ** 3) / seconds / 1e9 };
}

/** Frozen DiT weights: inline initializers, seeded by name, the same in every graph of this run. */
const frozenWeights = (g: Graph): ParamSource => new InitializerParams(g, 'float32', { seed: 7 });

function ditInputs(g: Graph, sh: Shapes): { x: Tensor; cond: Tensor; ctx: Tensor } {
  return {
    x: g.input('x', 'float32', [1, sh.tokens, sh.dit.dim]),
    cond: g.input('cond', 'float32', [1, sh.dit.dim]),
    ctx: g.input('ctx', 'float32', [1, sh.contextTokens, sh.dit.dim]),
  };
}

function ditFeeds(sh: Shapes, withTarget: boolean): Record<string, Float32Array> {
  const feeds: Record<string, Float32Array> = {
    x: randomArray(sh.tokens * sh.dit.dim, 11),
    cond: randomArray(sh.dit.dim, 12),
    ctx: randomArray(sh.contextTokens * sh.dit.dim, 13),
  };
  if (withTarget) feeds.target = randomArray(sh.tokens * sh.dit.dim, 14, 0.5);
  return feeds;
}

async function forwardTime(sh: Shapes, impl: AttentionImpl, reps: number, so: SessionOptions): Promise<{ seconds: number; createSeconds: number; nodes: number }> {
  const g = new Graph('bench-dit-forward');
  const { x, cond, ctx } = ditInputs(g, sh);
  const frozen = frozenWeights(g);
  const y = ditStack({ frozen, trainable: frozen, lora: null }, x, cond, ctx, { ...sh.dit, impl });
  const t = performance.now();
  const s = await CompiledGraph.fromGraph(g, { ...so, outputs: [g.alias(y, 'y')], optimization: 'all' });
  const createSeconds = (performance.now() - t) / 1000;
  const feeds = ditFeeds(sh, false);
  const seconds = await bestOf(reps, () => s.run(feeds));
  await s.release();
  return { seconds, createSeconds, nodes: g.nodes.length };
}

async function loraStepTime(sh: Shapes, reps: number, so: SessionOptions, optimization: NonNullable<SessionOptions['optimization']>): Promise<{ seconds: number; createSeconds: number; nodes: number; trainable: number; lossDrop: [number, number] }> {
  const loss = (g: Graph, w: Weights): Tensor => {
    const { x, cond, ctx } = ditInputs(g, sh);
    const target = g.input('target', 'float32', [1, sh.tokens, sh.dit.dim]);
    const d = sub(ditStack(w, x, cond, ctx, { ...sh.dit, impl: 'naive' }), target);
    return reduceMean(mul(d, d));
  };
  const tg = buildTrainGraph({ loss, lora: { rank: sh.loraRank, targets: WAN_LORA_TARGETS }, frozen: frozenWeights });
  const t = performance.now();
  const trainer = await Trainer.open(tg, { ...so, optimization, seed: 1 });
  const createSeconds = (performance.now() - t) / 1000;
  const feeds = ditFeeds(sh, true);
  const losses: number[] = [];
  const seconds = await bestOf(reps, async () => losses.push(await trainer.step(feeds, 1e-3)));
  await trainer.release();
  return { seconds, createSeconds, nodes: tg.graph.nodes.length, trainable: tg.layout.size, lossDrop: [losses[0]!, losses[losses.length - 1]!] };
}

export interface GraphBenchDetails {
  backend: 'cpu';
  intraOpThreads: number;
  reps: number;
  matmul: { n: number; seconds: number };
  dit: DitConfig & { tokens: number; contextTokens: number; attention: AttentionImpl; forwardGflop: number };
  forward: { seconds: number; createSeconds: number; nodes: number; optimization: string };
  forwardFusedAttention: { seconds: number; gflops: number; ofCeiling: number; createSeconds: number } | null;
  loraStep: { seconds: number; createSeconds: number; nodes: number; optimization: string; rank: number; trainableParams: number; loss: number[] };
}

export interface GraphBenchResult {
  bench: 'graph';
  matmulGflops: number;
  forwardGflops: number;
  forwardOfCeiling: number;
  loraStepOverForward: number;
  details: GraphBenchDetails;
}

export async function measure(args: string[]): Promise<GraphBenchResult> {
  const sh = args.includes('--quick') ? QUICK : FULL;
  // Default: one intra-op thread per core (2 on the reference machine); --threads 1 gives steadier
  // figures on a machine shared with other work (no barrier stalls between descheduled threads).
  const threads = Number(flag(args, '--threads') ?? availableParallelism());
  const reps = Number(flag(args, '--reps') ?? 3);
  // 'all' fuses the backward's transposed products (FusedMatMul) and scalings; its longer session
  // creation only matters for very deep graphs (nn/dit.test.ts opens a 30-block one with 'basic').
  const trainOpt = (flag(args, '--train-opt') ?? 'all') as NonNullable<SessionOptions['optimization']>;
  if (!Number.isInteger(threads) || threads < 0) throw new Error('--threads takes a non-negative integer (0: ORT default)');
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer');
  const so: SessionOptions = { backend: 'cpu', intraOpThreads: threads };

  const mm = await matmulCeiling(sh.matmul, reps + 2, so);
  const flops = ditFlops(1, sh.tokens, sh.contextTokens, sh.dit);
  const fwd = await forwardTime(sh, 'naive', reps, so);
  // The inference form (one MultiHeadAttention node per attention) for reference; the ratios use the
  // training graph's own forward (naive attention), so the step is compared with its own forward.
  const fused = args.includes('--no-fused') ? null : await forwardTime(sh, 'fused', reps, so);
  const step = await loraStepTime(sh, reps, so, trainOpt);
  const forwardGflops = flops / fwd.seconds / 1e9;
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    bench: 'graph',
    matmulGflops: r3(mm.gflops),
    forwardGflops: r3(forwardGflops),
    forwardOfCeiling: r3(forwardGflops / mm.gflops),
    loraStepOverForward: r3(step.seconds / fwd.seconds),
    details: {
      backend: 'cpu',
      intraOpThreads: threads,
      reps,
      matmul: { n: sh.matmul, seconds: r3(mm.seconds) },
      dit: { ...sh.dit, tokens: sh.tokens, contextTokens: sh.contextTokens, attention: 'naive' as const, forwardGflop: r3(flops / 1e9) },
      forward: { seconds: r3(fwd.seconds), createSeconds: r3(fwd.createSeconds), nodes: fwd.nodes, optimization: 'all' },
      forwardFusedAttention: fused ? { seconds: r3(fused.seconds), gflops: r3(flops / fused.seconds / 1e9), ofCeiling: r3(flops / fused.seconds / 1e9 / mm.gflops), createSeconds: r3(fused.createSeconds) } : null,
      loraStep: { seconds: r3(step.seconds), createSeconds: r3(step.createSeconds), nodes: step.nodes, optimization: trainOpt, rank: sh.loraRank, trainableParams: step.trainable, loss: step.lossDrop.map(r3) },
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const r = await measure(args);
  if (args.includes('--json')) {
    console.log(JSON.stringify(r));
    return;
  }
  const d = r.details;
  console.log(`graph engine on CPU (fp32, ${d.intraOpThreads} intra-op threads), DiT stack dim ${d.dit.dim}, ${d.dit.layers} blocks, ${d.dit.tokens} tokens, ${d.dit.contextTokens} context rows`);
  const rows: [string, string, string][] = [
    ['matmul ceiling', `${r.matmulGflops.toFixed(1)} GFLOP/s`, `${d.matmul.n}³ in ${(d.matmul.seconds * 1000).toFixed(1)} ms`],
    ['DiT forward', `${r.forwardGflops.toFixed(1)} GFLOP/s`, `${d.dit.forwardGflop} GFLOP in ${(d.forward.seconds * 1000).toFixed(0)} ms, ${d.forward.nodes} nodes`],
    ['forward / ceiling', r.forwardOfCeiling.toFixed(3), 'target ≥ 0.70'],
    ...(d.forwardFusedAttention ? [['  fused-attention fwd', `${d.forwardFusedAttention.gflops.toFixed(1)} GFLOP/s`, `${(d.forwardFusedAttention.seconds * 1000).toFixed(0)} ms, ${d.forwardFusedAttention.ofCeiling.toFixed(3)} of ceiling (inference form)`] as [string, string, string]] : []),
    ['LoRA step', `${(d.loraStep.seconds * 1000).toFixed(0)} ms`, `${d.loraStep.nodes} nodes, opened in ${d.loraStep.createSeconds} s`],
    ['LoRA step / forward', r.loraStepOverForward.toFixed(3), 'target ≤ 3.0'],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(22)} ${b.padStart(16)}   ${c}`);
}
