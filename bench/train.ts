// `npm run bench -- train [--json] [--quick] [--threads N] [--reps N]`
//
// What a training step costs next to a forward, and what per-block recomputation saves, in ONE run,
// on the trainer's own graphs (engine/train/graphs.ts) at a DiT-like size: a ReFree-S2V model of dim
// 256 (4 heads of 64, ffn 1024), 8 blocks, speech FiLM in every 2nd block, 4 latent frames of 20×20
// (400 tokens), LoRA rank 8 on q/k/v/o/ffn.0/ffn.2 plus the speech modules trained in full.
// - sftOverForward: one SFT step (forward, backward, AdamW; batch 1) ÷ one forward (buildVelocityGraph,
//   batch 1). Goal ≤ 2.5.
// - dpoOverForward: one DPO step over a 4-tuple (policy and reference forwards of 4 items, backward,
//   AdamW) ÷ the forward of ONE item. Goal ≤ 14.
// - recomputePeakCut: extra process memory of one SFT step without ÷ with per-block recomputation,
//   each measured in its own child process (VmHWM from /proc/self/status, reset through clear_refs
//   after the session is open, so the figure is the step's own memory: activations, gradients,
//   outputs, ORT's arena). Goal ≥ 3. Beside it: the estimate simulator's (engine/train/estimate.ts)
//   figure for the same graphs, peak minus what is resident before the step (weights and inputs).
// All sessions open with the trainer's options (stepper.ts: basic optimisation, no CSE, no memory
// pattern). Timed cases take turns for --reps rounds after one warm-up each; medians are reported.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BYTES_PER_ELEMENT } from '../engine/graph/dtype.js';
import type { Graph, Tensor } from '../engine/graph/graph.js';
import { fillInit, normalInit } from '../engine/graph/params.js';
import type { DitConfig } from '../engine/model/config.js';
import { refreeConfigFor } from '../engine/model/refree/config.js';
import type { ReFreeConfig } from '../engine/model/refree/config.js';
import type { WeightProvider } from '../engine/model/weight-provider.js';
import { CompiledGraph } from '../engine/runtime/session.js';
import type { Feeds, SessionOptions } from '../engine/runtime/session.js';
import { measureCpuRates, rooflineSeconds, simulateGraph } from '../engine/train/estimate.js';
import type { BackendRates } from '../engine/train/estimate.js';
import type { BuiltTrainGraph, TrainModel } from '../engine/train/graphs.js';
import { buildDpoGraph, buildSftGraph, buildVelocityGraph } from '../engine/train/graphs.js';
import { trainableSet } from '../engine/train/trainable.js';

interface Shapes {
  dit: DitConfig;
  refree: ReFreeConfig;
  frames: number;
  h: number;
  w: number;
  rank: number;
}

function shapes(quick: boolean): Shapes {
  const dit: DitConfig = quick
    ? { inDim: 8, outDim: 8, patch: [1, 2, 2], dim: 64, ffnDim: 128, heads: 2, layers: 2, freqDim: 32, textDim: 32, textLen: 8, eps: 1e-6 }
    : { inDim: 16, outDim: 16, patch: [1, 2, 2], dim: 256, ffnDim: 1024, heads: 4, layers: 12, freqDim: 64, textDim: 64, textLen: 16, eps: 1e-6 };
  const refree = refreeConfigFor(dit, { speechDim: 32, hidden: quick ? 16 : 64, kernelSizes: [1, 3, 7] });
  return quick ? { dit, refree, frames: 2, h: 8, w: 8, rank: 4 } : { dit, refree, frames: 4, h: 20, w: 20, rank: 8 };
}

/** Frozen weights: inline, seeded by name, the same in every graph of a run. */
class RandomWeights implements WeightProvider {
  private readonly made = new Map<Graph, Map<string, Tensor>>();
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    let m = this.made.get(g);
    if (!m) this.made.set(g, (m = new Map()));
    const hit = m.get(name);
    if (hit) return hit;
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fillInit(data, normalInit(0.02), 7, name);
    const t = g.initializer(name, 'float32', shape, { kind: 'inline', data });
    m.set(name, t);
    return t;
  }
}

function model(sh: Shapes, recompute: boolean): TrainModel {
  const set = trainableSet(sh.dit, sh.refree, { lora: { rank: sh.rank, alpha: sh.rank, targets: ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] }, ditGroups: [] });
  return { dit: sh.dit, refree: sh.refree, set, frozen: new RandomWeights(), attention: 'naive', recompute };
}

type CaseName = 'forward' | 'sft' | 'sft-recompute' | 'dpo';

function build(sh: Shapes, c: CaseName): BuiltTrainGraph {
  const m = model(sh, c === 'sft-recompute');
  const grid = { frames: sh.frames, h: sh.h, w: sh.w };
  if (c === 'forward') return buildVelocityGraph(m, { ...grid, batch: 1 });
  if (c === 'dpo') return buildDpoGraph(m, { ...grid, tuples: 1, k: 4 }, { beta: 2500 });
  return buildSftGraph(m, { ...grid, batch: 1 });
}

function random(n: number, seed: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  fillInit(a, normalInit(std), seed, 'bench-train');
  return a;
}

/** Feeds for every input of `g`: the batch at plausible values, the optimizer state at zero. */
function feedsFor(g: Graph, params: number): Feeds {
  const feeds: Feeds = {};
  g.inputs.forEach((t, i) => {
    const n = t.size;
    if (t.name === 'params' || t.name === 'ref_params') feeds[t.name] = random(n, 1, 0.02);
    else if (t.name === 'timesteps') feeds[t.name] = new Float32Array(n).fill(500);
    else if (t.name === 'step') feeds[t.name] = Float32Array.of(1);
    else if (t.name === 'lr') feeds[t.name] = Float32Array.of(1e-4);
    else if (t.name === 'grad_scale' || t.name === 'weight' || t.name === 'omega') feeds[t.name] = new Float32Array(n).fill(1);
    else if (['adam_m', 'adam_v', 'grad_extra', 'speech_mask'].includes(t.name)) feeds[t.name] = new Float32Array(n);
    else feeds[t.name] = random(n, 10 + i, 0.5);
    if (t.size === params && feeds[t.name]!.length !== params) throw new Error(`internal: ${t.name}`);
  });
  return feeds;
}

const TRAINER_OPTIONS: SessionOptions = { backend: 'cpu', optimization: 'basic', disableCse: true, memPattern: false };

async function open(sh: Shapes, c: CaseName, threads: number): Promise<{ session: CompiledGraph; feeds: Feeds; built: BuiltTrainGraph }> {
  const built = build(sh, c);
  const session = await CompiledGraph.fromGraph(built.graph, { ...TRAINER_OPTIONS, intraOpThreads: threads, outputs: built.outputs });
  const params = built.graph.inputs.find((t) => t.name === 'params')!.size;
  return { session, feeds: feedsFor(built.graph, params), built };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function procStatus(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`/proc/self/status has no ${field}: the memory figures need Linux`);
  return Number(m[1]) * 1024;
}

/**
 * Child process: one forward first (the process's one-time costs: thread pool, MLAS buffers), then the
 * step's session; its peak is measured over one run from the RSS just before it.
 */
async function child(sh: Shapes, c: CaseName, threads: number): Promise<void> {
  const warm = await open(sh, 'forward', threads);
  await warm.session.run(warm.feeds);
  await warm.session.release();
  const { session, feeds, built } = await open(sh, c, threads);
  const before = procStatus('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  await session.run(feeds);
  const peak = procStatus('VmHWM');
  await session.release();
  // The fetched outputs are copied into JS arrays: part of the measured figure, not of the graph's.
  const outputCopies = built.outputs.reduce((a, t) => a + t.size * BYTES_PER_ELEMENT[t.dtype], 0);
  console.log(JSON.stringify({ before, peak, stepBytes: peak - before, outputCopies }));
}

interface ChildResult {
  before: number;
  peak: number;
  stepBytes: number;
  outputCopies: number;
}

async function measureInChild(c: CaseName, args: string[]): Promise<ChildResult> {
  const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
  const p = spawn(process.execPath, [...process.execArgv, main, 'train', '--child', c, ...args.filter((a) => a !== '--json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((resolve) => p.on('close', (k) => resolve(k ?? 1)));
  if (code !== 0) throw new Error(`the memory measurement of "${c}" failed (exit ${code}): ${out}`);
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

/** The simulator's figures for a graph: its peak, and the peak minus what is resident before the step. */
function simulated(b: BuiltTrainGraph, rates: BackendRates): { peak: number; stepBytes: number; seconds: number } {
  const sim = simulateGraph(b.graph, b.outputs);
  let resident = 0;
  for (const t of b.graph.inputs) resident += t.size * BYTES_PER_ELEMENT[t.dtype];
  for (const [t] of b.graph.initializers) resident += t.size * BYTES_PER_ELEMENT[t.dtype];
  return { peak: sim.peakBytes, stepBytes: sim.peakBytes - resident, seconds: rooflineSeconds(sim, rates) };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export interface TrainBenchResult {
  bench: 'train';
  sftOverForward: number;
  dpoOverForward: number;
  recomputePeakCut: number;
  details: {
    model: { dim: number; heads: number; ffnDim: number; layers: number; tokens: number; injectBlocks: number[]; loraRank: number; trainableParams: number };
    intraOpThreads: number;
    reps: number;
    seconds: { forward: number; sft: number; sftRecompute: number; dpo: number };
    estimatedSeconds: { forward: number; sft: number; sftRecompute: number; dpo: number; rates: string };
    memory: {
      measuredStepBytes: { plain: number; recompute: number };
      /** The JS copies of the fetched outputs (grad, params, moments), included in the measured figures. */
      outputCopyBytes: number;
      simulatedStepBytes: { plain: number; recompute: number };
      simulatedPeakBytes: { plain: number; recompute: number };
      simulatedCut: number;
    };
  };
}

export async function measure(args: string[]): Promise<TrainBenchResult> {
  const quick = args.includes('--quick');
  const sh = shapes(quick);
  const threads = Number(flag(args, '--threads') ?? availableParallelism());
  const reps = Number(flag(args, '--reps') ?? 3);
  if (!Number.isInteger(threads) || threads < 0) throw new Error('--threads takes a non-negative integer (0: ORT default)');
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer');
  const names: CaseName[] = ['forward', 'sft', 'sft-recompute', 'dpo'];
  const cases = [];
  for (const c of names) cases.push(await open(sh, c, threads));
  const times: number[][] = names.map(() => []);
  for (const c of cases) await c.session.run(c.feeds);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < cases.length; i++) {
      const t = performance.now();
      await cases[i]!.session.run(cases[i]!.feeds);
      times[i]!.push((performance.now() - t) / 1000);
    }
  }
  const builtGraphs = cases.map((c) => c.built);
  for (const c of cases) await c.session.release();
  const [fwd, sft, sftRc, dpo] = times.map(median) as [number, number, number, number];

  const rates = await measureCpuRates(threads);
  const [simFwd, simSft, simRc, simDpo] = builtGraphs.map((b) => simulated(b, rates)) as [ReturnType<typeof simulated>, ReturnType<typeof simulated>, ReturnType<typeof simulated>, ReturnType<typeof simulated>];
  const childArgs = [...(quick ? ['--quick'] : []), '--threads', String(threads)];
  const plain = await measureInChild('sft', childArgs);
  const rc = await measureInChild('sft-recompute', childArgs);
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  const tokens = sh.frames * (sh.h / 2) * (sh.w / 2);
  return {
    bench: 'train',
    sftOverForward: r3(sft / fwd),
    dpoOverForward: r3(dpo / fwd),
    recomputePeakCut: r3(plain.stepBytes / rc.stepBytes),
    details: {
      model: { dim: sh.dit.dim, heads: sh.dit.heads, ffnDim: sh.dit.ffnDim, layers: sh.dit.layers, tokens, injectBlocks: [...sh.refree.injectBlocks], loraRank: sh.rank, trainableParams: model(sh, false).set.layout.size },
      intraOpThreads: threads,
      reps,
      seconds: { forward: r3(fwd), sft: r3(sft), sftRecompute: r3(sftRc), dpo: r3(dpo) },
      estimatedSeconds: { forward: r3(simFwd.seconds), sft: r3(simSft.seconds), sftRecompute: r3(simRc.seconds), dpo: r3(simDpo.seconds), rates: rates.source },
      memory: {
        measuredStepBytes: { plain: plain.stepBytes, recompute: rc.stepBytes },
        outputCopyBytes: plain.outputCopies,
        simulatedStepBytes: { plain: simSft.stepBytes, recompute: simRc.stepBytes },
        simulatedPeakBytes: { plain: simSft.peak, recompute: simRc.peak },
        simulatedCut: r3(simSft.stepBytes / simRc.stepBytes),
      },
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const childCase = flag(args, '--child');
  if (childCase) return child(shapes(args.includes('--quick')), childCase as CaseName, Number(flag(args, '--threads') ?? 0));
  const r = await measure(args);
  if (args.includes('--json')) {
    console.log(JSON.stringify(r));
    return;
  }
  const d = r.details;
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
  console.log(`training steps on CPU (fp32, ${d.intraOpThreads} intra-op threads), ReFree-S2V dim ${d.model.dim}, ${d.model.layers} blocks, ${d.model.tokens} tokens, LoRA rank ${d.model.loraRank} + speech modules (${d.model.trainableParams.toLocaleString('en-US')} parameters); medians of ${d.reps}`);
  const rows: [string, string, string][] = [
    ['forward (1 item)', ms(d.seconds.forward), `estimate ${ms(d.estimatedSeconds.forward)}`],
    ['SFT step', ms(d.seconds.sft), `estimate ${ms(d.estimatedSeconds.sft)}`],
    ['SFT step, recompute', ms(d.seconds.sftRecompute), `estimate ${ms(d.estimatedSeconds.sftRecompute)}`],
    ['DPO step (4-tuple)', ms(d.seconds.dpo), `estimate ${ms(d.estimatedSeconds.dpo)}`],
    ['SFT / forward', r.sftOverForward.toFixed(3), 'goal ≤ 2.5'],
    ['DPO 4-tuple / forward', r.dpoOverForward.toFixed(3), 'goal ≤ 14'],
    ['step memory, plain', mb(d.memory.measuredStepBytes.plain), `simulated ${mb(d.memory.simulatedStepBytes.plain)} (whole peak ${mb(d.memory.simulatedPeakBytes.plain)})`],
    ['step memory, recompute', mb(d.memory.measuredStepBytes.recompute), `simulated ${mb(d.memory.simulatedStepBytes.recompute)} (whole peak ${mb(d.memory.simulatedPeakBytes.recompute)})`],
    ['recomputation cut', `${r.recomputePeakCut.toFixed(2)}×`, `goal ≥ 3; simulated ${d.memory.simulatedCut.toFixed(2)}×`],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(24)} ${b.padStart(10)}   ${c}`);
  console.log(`measured step memory includes ${mb(d.memory.outputCopyBytes)} of JS copies of the fetched outputs; rates: ${d.estimatedSeconds.rates}`);
}
