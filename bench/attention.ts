// `npm run bench -- attention [--quick] [--json] [--block N] [--only naive|blockwise] [--pattern on|off]`
//
// Attention training-step memory and time on CPU: fwd+bwd of sum(attn(xWq, xWk, xWv) · r) with respect
// to Wq, Wk, Wv, at 8k and 16k tokens (--quick: 8k only), width 256, 4 heads (Dh 64), B=1, float32:
// naive (softmax materialised and kept for the backward) against blockwise (flash-style recompute with
// scheduling guards, engine/graph/ops/attention-blockwise.ts).
//
// Each case runs with ORT's memory pattern on and off (SessionOptions.memPattern). With the pattern on, the second run allocates the
// pattern's one big block next to the arena chunks the first run left behind, so a training loop keeps
// roughly twice its real peak. Naive at 16k with the pattern on would need ≈ 2 × 13 GB, more than the
// 24 GB development machine, so that one case is skipped unless --pattern on asks for it.
//
// Peak memory is measured honestly: each case runs in a fresh child process (this file with --case),
// which reports its max RSS minus its RSS just before the ORT session is created. The time is one step
// after one warm-up step. The L1 norms of the three gradients show the two forms compute the same thing.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Graph } from '../engine/graph/graph.js';
import type { Tensor } from '../engine/graph/graph.js';
import { grad } from '../engine/graph/autodiff.js';
import { attentionBlockwise, attentionNaive } from '../engine/graph/ops/attention.js';
import { matmul } from '../engine/graph/ops/matmul.js';
import { mul } from '../engine/graph/ops/elementwise.js';
import { reduceSum } from '../engine/graph/ops/reduce.js';
import { reshape, transpose } from '../engine/graph/ops/shape.js';
import { seededValues } from '../engine/exec/gradcheck.js';
import { CompiledGraph } from '../engine/runtime/session.js';

const WIDTH = 256;
const HEADS = 4;
type Impl = 'naive' | 'blockwise';

interface Case {
  impl: Impl;
  tokens: number;
  /** ORT's memory pattern (on is ORT's and CompiledGraph's default). */
  memPattern: boolean;
  blockSize: number;
}

interface CaseResult extends Case {
  /** max RSS of the case's process minus its RSS before session creation, MiB. */
  peakMiB: number;
  baselineMiB: number;
  createS: number;
  warmupS: number;
  stepS: number;
  /** L1 norms of dWq, dWk, dWv. */
  gradL1: [number, number, number];
}

interface Runner {
  run(feeds: Record<string, Float32Array>): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

function buildStep(c: Case) {
  const g = new Graph(`bench-attention-${c.impl}`);
  const x = g.input('x', 'float32', [1, c.tokens, WIDTH]);
  const r = g.input('r', 'float32', [1, c.tokens, WIDTH]);
  const w = ['wq', 'wk', 'wv'].map((n) => g.input(n, 'float32', [WIDTH, WIDTH]));
  const heads = (t: Tensor): Tensor => transpose(reshape(t, [1, c.tokens, HEADS, WIDTH / HEADS]), [0, 2, 1, 3]);
  const [q, k, v] = w.map((wi) => heads(matmul(x, wi))) as [Tensor, Tensor, Tensor];
  const o = c.impl === 'naive' ? attentionNaive(q, k, v) : attentionBlockwise(q, k, v, { blockSize: c.blockSize });
  const loss = reduceSum(mul(reshape(transpose(o, [0, 2, 1, 3]), [1, c.tokens, WIDTH]), r));
  const outputs = [g.alias(loss, 'loss'), ...grad(loss, w).map((t, i) => g.alias(t, `grad_${i}`))];
  return { g, outputs };
}

/** Child-process side: builds, compiles and runs one case. */
async function runCase(c: Case): Promise<CaseResult> {
  const { g, outputs } = buildStep(c);
  const feeds = {
    x: Float32Array.from(seededValues(c.tokens * WIDTH, 1)),
    r: Float32Array.from(seededValues(c.tokens * WIDTH, 2)),
    // Weights of scale ~1/sqrt(width) keep the logits O(1), as in a trained layer.
    wq: Float32Array.from(seededValues(WIDTH * WIDTH, 3, -0.1, 0.1)),
    wk: Float32Array.from(seededValues(WIDTH * WIDTH, 4, -0.1, 0.1)),
    wv: Float32Array.from(seededValues(WIDTH * WIDTH, 5, -0.1, 0.1)),
  };
  // The training-session settings that blockwise attention needs (CSE off); naive gets the same.
  const opts = { outputs, disableCse: true, optimization: 'all' } as const;
  const baseline = process.memoryUsage().rss;
  let t = performance.now();
  const session: Runner = await CompiledGraph.fromGraph(g, { ...opts, memPattern: c.memPattern });
  const createS = (performance.now() - t) / 1000;
  t = performance.now();
  await session.run(feeds);
  const warmupS = (performance.now() - t) / 1000;
  t = performance.now();
  const res = await session.run(feeds);
  const stepS = (performance.now() - t) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  await session.release();
  const l1 = (a: Float32Array): number => a.reduce((s, x) => s + Math.abs(x), 0);
  return {
    ...c,
    peakMiB: mib(peak - baseline),
    baselineMiB: mib(baseline),
    createS: +createS.toFixed(2),
    warmupS: +warmupS.toFixed(2),
    stepS: +stepS.toFixed(2),
    gradL1: [0, 1, 2].map((i) => l1(res[`grad_${i}`] as Float32Array)) as [number, number, number],
  };
}

function spawnCase(c: Case): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--case', JSON.stringify(c)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as CaseResult);
      else reject(new Error(`attention bench case ${JSON.stringify(c)} failed (exit ${code ?? signal}): ${out.slice(-500)}`));
    });
  });
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const blockSize = Number(flag(args, '--block') ?? 256);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error('--block takes a positive integer');
  const only = flag(args, '--only');
  if (only !== undefined && only !== 'naive' && only !== 'blockwise') throw new Error('--only takes naive or blockwise');
  const impls: readonly Impl[] = only ? [only] : ['naive', 'blockwise'];
  const pattern = flag(args, '--pattern');
  if (pattern !== undefined && pattern !== 'on' && pattern !== 'off') throw new Error('--pattern takes on or off');

  const cases: Case[] = [];
  for (const tokens of args.includes('--quick') ? [8192] : [8192, 16384]) {
    for (const impl of impls) {
      for (const memPattern of pattern ? [pattern === 'on'] : [false, true]) {
        if (impl === 'naive' && memPattern && tokens > 8192 && pattern !== 'on') continue; // see the header
        cases.push({ impl, tokens, memPattern, blockSize });
      }
    }
  }
  const results: CaseResult[] = [];
  // One case at a time: they share the CPU, and a parallel case would distort both time and memory.
  for (const c of cases) results.push(await spawnCase(c));

  if (json) {
    console.log(JSON.stringify({ bench: 'attention', width: WIDTH, heads: HEADS, batch: 1, dtype: 'float32', results }));
    return;
  }
  console.log(`attention fwd+bwd (dWq, dWk, dWv), width ${WIDTH}, ${HEADS} heads, B=1, float32, CPU, CSE off; one step after one warm-up`);
  console.log('impl       tokens  block  mem pattern  peak MiB  create s  warm-up s  step s  |dWq|₁ |dWk|₁ |dWv|₁');
  for (const r of results) {
    const cols = [
      r.impl.padEnd(9),
      String(r.tokens).padStart(7),
      (r.impl === 'naive' ? '-' : String(r.blockSize)).padStart(6),
      (r.memPattern ? 'on' : 'off').padStart(12),
      r.peakMiB.toFixed(1).padStart(9),
      r.createS.toFixed(2).padStart(9),
      r.warmupS.toFixed(2).padStart(10),
      r.stepS.toFixed(2).padStart(7),
      r.gradL1.map((x) => x.toPrecision(7)).join(' '),
    ];
    console.log(cols.join(' '));
  }
}

// Child mode: `node --import tsx bench/attention.ts --case '{"impl":"blockwise","tokens":8192,...}'`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--case') {
  const result = await runCase(JSON.parse(process.argv[3]!) as Case);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
