// `npm run bench -- graph [--json] [--quick] [--threads N] [--reps N] [--train-opt LEVEL] [--no-fused]`
//
// How close the graph engine gets to the machine's matmul ceiling on CPU, in ONE run:
// - matmulGflops: the ceiling, the better of two large fp32 MatMuls (2048³, and the FFN's
//   1024×1024×4096), each with its weight as an initializer so ORT pre-packs it as it does for model
//   weights.
// - forwardGflops: the forward of a DiT-like block stack (nn/dit.ts: adaLN modulation, self-attention
//   with q/k RMSNorm, cross-attention, tanh-GELU FFN) at dim 1024 (8 heads of 128, as in Wan),
//   1024 tokens, 256 context rows, ffn 4096, 4 blocks; FLOPs are counted analytically over every
//   matmul including both attention products (nn/dit.ts ditFlops). Norms, softmax and GELU count as
//   zero FLOPs, so they can only lower the figure.
// - forwardOfCeiling = forwardGflops / matmulGflops (target ≥ 0.70).
// - loraStepOverForward: one LoRA training step (fwd + bwd + AdamW in one session; rank 16 on the Wan
//   targets q/k/v/o of both attentions and both FFN linears) over one forward at the same shapes
//   (target ≤ 3.0).
// Every session is opened first; then the cases take turns for --reps rounds (after one warm-up
// each) and each keeps its best time, so load from other processes hits all of them alike and the
// ratios stay meaningful on a shared machine. Run on an idle machine for absolute numbers to quote.
// Timings include the JS↔ORT copies.
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
import { buildTrainGraph } from '../engine/graph/nn/train-step.js';
import { Trainer } from '../engine/exec/trainer.js';
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

/** A prepared measurement: one call of `run` is one timed unit. */
interface Case {
  run: () => Promise<unknown>;
  createSeconds: number;
  nodes: number;
  release: () => Promise<void>;
}

/** One MatMul [m, k] × [k, n] with the weight as an initializer (pre-packed, like model weights). */
async function matmulCase(m: number, k: number, n: number, so: SessionOptions): Promise<Case> {
  const g = new Graph('bench-matmul');
  const a = g.input('a', 'float32', [m, k]);
  const b = g.initializer('b', 'float32', [k, n], { kind: 'inline', data: randomArray(k * n, 2, 1 / Math.sqrt(k)) });
  const t = performance.now();
  const s = await CompiledGraph.fromGraph(g, { ...so, outputs: [g.alias(matmul(a, b), 'y')], optimization: 'all' });
  const createSeconds = (performance.now() - t) / 1000;
  const feeds = { a: randomArray(m * k, 1) };
  return { run: () => s.run(feeds), createSeconds, nodes: 1, release: () => s.release() };
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

async function forwardCase(sh: Shapes, impl: AttentionImpl, so: SessionOptions): Promise<Case> {
  const g = new Graph('bench-dit-forward');
  const { x, cond, ctx } = ditInputs(g, sh);
  const frozen = frozenWeights(g);
  const y = ditStack({ frozen, trainable: frozen, lora: null }, x, cond, ctx, { ...sh.dit, impl });
  const t = performance.now();
  const s = await CompiledGraph.fromGraph(g, { ...so, outputs: [g.alias(y, 'y')], optimization: 'all' });
  const createSeconds = (performance.now() - t) / 1000;
  const feeds = ditFeeds(sh, false);
  return { run: () => s.run(feeds), createSeconds, nodes: g.nodes.length, release: () => s.release() };
}

async function loraStepCase(sh: Shapes, so: SessionOptions, optimization: NonNullable<SessionOptions['optimization']>): Promise<Case & { trainable: number; losses: number[] }> {
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
  return { run: async () => losses.push(await trainer.step(feeds, 1e-3)), createSeconds, nodes: tg.graph.nodes.length, release: () => trainer.release(), trainable: tg.layout.size, losses };
}

/**
 * Best (minimum) wall time of each case over `rounds` rounds, after one warm-up call each. The cases
 * take turns within every round, so a burst of load from other processes hits them all alike and
 * the ratios between them stay meaningful on a shared machine.
 */
async function interleavedBest(cases: Case[], rounds: number): Promise<number[]> {
  for (const c of cases) await c.run();
  const best = cases.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const t = performance.now();
      await cases[i]!.run();
      best[i] = Math.min(best[i]!, (performance.now() - t) / 1000);
    }
  }
  return best;
}

export interface GraphBenchDetails {
  backend: 'cpu';
  intraOpThreads: number;
  reps: number;
  matmul: { n: number; seconds: number; squareGflops: number; ffnShape: number[]; ffnShapeGflops: number };
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
  const reps = Number(flag(args, '--reps') ?? 4);
  // 'all' fuses the backward's transposed products (FusedMatMul) and scalings; its longer session
  // creation only matters for very deep graphs (nn/dit.test.ts opens a 30-block one with 'basic').
  const trainOpt = (flag(args, '--train-opt') ?? 'all') as NonNullable<SessionOptions['optimization']>;
  if (!Number.isInteger(threads) || threads < 0) throw new Error('--threads takes a non-negative integer (0: ORT default)');
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer');
  const so: SessionOptions = { backend: 'cpu', intraOpThreads: threads };

  const flops = ditFlops(1, sh.tokens, sh.contextTokens, sh.dit);
  // All sessions are opened first (they fit in memory together), then timed turn by turn.
  // The ceiling is the better of two large products: the square one, and the FFN's own shape
  // (tokens × dim × ffn), whose smaller K sometimes suits the cache better. Taking the max keeps
  // forwardOfCeiling conservative. Each runs twice per round: they are cheap next to a forward.
  const mmSquare = await matmulCase(sh.matmul, sh.matmul, sh.matmul, so);
  const mmFfn = await matmulCase(sh.tokens, sh.dit.dim, sh.dit.ffnDim, so);
  const fwdCase = await forwardCase(sh, 'naive', so);
  // The inference form (one MultiHeadAttention node per attention) for reference; the ratios use the
  // training graph's own forward (naive attention), so the step is compared with its own forward.
  const fusedCase = args.includes('--no-fused') ? null : await forwardCase(sh, 'fused', so);
  const stepCase = await loraStepCase(sh, so, trainOpt);
  const cases = [mmSquare, mmSquare, mmFfn, mmFfn, fwdCase, stepCase, ...(fusedCase ? [fusedCase] : [])];
  const [sq1, sq2, ffn1, ffn2, fwdSeconds, stepSeconds, fusedSeconds] = await interleavedBest(cases, reps);
  for (const c of [mmSquare, mmFfn, fwdCase, stepCase, ...(fusedCase ? [fusedCase] : [])]) await c.release();
  const squareGflops = (2 * sh.matmul ** 3) / Math.min(sq1!, sq2!) / 1e9;
  const ffnGflops = (2 * sh.tokens * sh.dit.dim * sh.dit.ffnDim) / Math.min(ffn1!, ffn2!) / 1e9;
  const mm = { seconds: Math.min(sq1!, sq2!), gflops: Math.max(squareGflops, ffnGflops), squareGflops, ffnGflops };
  const fwd = { ...fwdCase, seconds: fwdSeconds! };
  const step = { ...stepCase, seconds: stepSeconds!, lossDrop: [stepCase.losses[0]!, stepCase.losses[stepCase.losses.length - 1]!] };
  const fused = fusedCase ? { ...fusedCase, seconds: fusedSeconds! } : null;
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
      matmul: { n: sh.matmul, seconds: r3(mm.seconds), squareGflops: r3(mm.squareGflops), ffnShape: [sh.tokens, sh.dit.dim, sh.dit.ffnDim], ffnShapeGflops: r3(mm.ffnGflops) },
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
    ['matmul ceiling', `${r.matmulGflops.toFixed(1)} GFLOP/s`, `best of ${d.matmul.n}³ (${d.matmul.squareGflops.toFixed(1)}) and ${d.matmul.ffnShape.join('×')} (${d.matmul.ffnShapeGflops.toFixed(1)})`],
    ['DiT forward', `${r.forwardGflops.toFixed(1)} GFLOP/s`, `${d.dit.forwardGflop} GFLOP in ${(d.forward.seconds * 1000).toFixed(0)} ms, ${d.forward.nodes} nodes`],
    ['forward / ceiling', r.forwardOfCeiling.toFixed(3), 'target ≥ 0.70'],
    ...(d.forwardFusedAttention ? [['  fused-attention fwd', `${d.forwardFusedAttention.gflops.toFixed(1)} GFLOP/s`, `${(d.forwardFusedAttention.seconds * 1000).toFixed(0)} ms, ${d.forwardFusedAttention.ofCeiling.toFixed(3)} of ceiling (inference form)`] as [string, string, string]] : []),
    ['LoRA step', `${(d.loraStep.seconds * 1000).toFixed(0)} ms`, `${d.loraStep.nodes} nodes, opened in ${d.loraStep.createSeconds} s`],
    ['LoRA step / forward', r.loraStepOverForward.toFixed(3), 'target ≤ 3.0'],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(22)} ${b.padStart(16)}   ${c}`);
}
