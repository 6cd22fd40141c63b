// `npm run bench -- vae [--json] [--quick] [--reps N] [--dec-dim N]`
//
// What a VAE training step (engine/train/vae/graph.ts) costs next to the same network's forward, in ONE
// run, on refree-mini's VAE (assets/models/refree-mini/spec.json) at its training shape: 2 windows of 5
// frames at 128×128.
// - stepOverForward: one training step (encoder, decoder, weighted loss, backward, AdamW) ÷ the forward
//   alone (encoder, decoder, loss). Goal ≤ 4: the backward of a convolution costs about two forwards (its
//   input and its weight gradient), so a step near 3 forwards means no gradient runs on a slow kernel.
//   Measured on 2 cores: 10.5 while input gradients were ConvTransposes, 6.0 since stride-1 ones are
//   Convs; most of the rest is the weight-gradient convolutions (kernel = the whole output gradient),
//   so the goal is not met yet.
// - decoderOnlyOverStep: a decoder-only step (encoder frozen, `refree train vae --decoder-only`) ÷ the
//   full step, both with the same decoder.
// All sessions open with the trainer's options (basic optimisation, no CSE, no memory pattern).
// Cases take turns for --reps rounds after one warm-up each; medians are reported.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Graph } from '../engine/graph/graph.js';
import { FlatParams } from '../engine/graph/params.js';
import type { VaeConfig } from '../engine/model/config.js';
import { vaeParams } from '../engine/model/inventory/vae.js';
import { randomWeights } from '../engine/model/random-weights.js';
import type { WeightEntry } from '../engine/model/weight-provider.js';
import type { Feeds } from '../engine/runtime/session.js';
import { CompiledGraph } from '../engine/runtime/session.js';
import { buildVaeTrainGraph, vaeDecoderLayout, vaeLayout, vaeTrainingLoss } from '../engine/train/vae/graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRAINER = { optimization: 'basic' as const, disableCse: true, memPattern: false };

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Case {
  name: string;
  run: () => Promise<unknown>;
  release: () => Promise<void>;
}

function noise(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return a;
}

async function stepCase(name: string, cfg: VaeConfig, shape: { batch: number; frames: number; size: number }, decoderOnly: boolean): Promise<Case> {
  const full = vaeLayout(cfg);
  const layout = decoderOnly ? vaeDecoderLayout(cfg) : full;
  const w = randomWeights(vaeParams(cfg), 1);
  const frozen = decoderOnly ? new Map<string, WeightEntry>([...w].filter(([k]) => !layout.has(k))) : null;
  const built = buildVaeTrainGraph(cfg, layout, shape, { latentReg: 1e-4, weightDecay: 0, maxGradNorm: 1 }, frozen);
  const s = await CompiledGraph.fromGraph(built.graph, { ...TRAINER, outputs: built.outputs });
  const n = layout.size;
  const px = shape.batch * shape.frames * shape.size * shape.size;
  const feeds: Feeds = { params: noise(n, 2, 0.05), adam_m: new Float32Array(n), adam_v: new Float32Array(n), step: Float32Array.of(1), lr: Float32Array.of(1e-3), grad_extra: new Float32Array(n), grad_scale: Float32Array.of(1), pixels: noise(3 * px, 3, 1), weight: new Float32Array(px).fill(1) };
  return { name, run: () => s.run(feeds), release: () => s.release() };
}

/** The same encoder → decoder → weighted loss, without gradients: the step's forward. */
async function forwardCase(cfg: VaeConfig, shape: { batch: number; frames: number; size: number }): Promise<Case> {
  const layout = vaeLayout(cfg);
  const g = new Graph('bench_vae_forward');
  const flat = FlatParams.bind(g, layout, { name: 'params' });
  const provider = { get: (_g: Graph, name: string, sh: readonly number[]) => flat.param(name, sh) };
  const { loss } = vaeTrainingLoss(g, cfg, provider, shape, 1e-4);
  const s = await CompiledGraph.fromGraph(g, { ...TRAINER, outputs: [g.alias(loss, 'loss')] });
  const px = shape.batch * shape.frames * shape.size * shape.size;
  const feeds: Feeds = { params: noise(layout.size, 2, 0.05), pixels: noise(3 * px, 3, 1), weight: new Float32Array(px).fill(1) };
  return { name: 'forward', run: () => s.run(feeds), release: () => s.release() };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const reps = Number(flag(args, '--reps') ?? (quick ? 2 : 5));
  const spec = JSON.parse(readFileSync(path.join(ROOT, 'assets', 'models', 'refree-mini', 'spec.json'), 'utf8')) as { architecture: { vae: VaeConfig } };
  const decDim = flag(args, '--dec-dim');
  const cfg: VaeConfig = { ...spec.architecture.vae, ...(decDim ? { decDim: Number(decDim) } : {}) };
  const shape = quick ? { batch: 1, frames: 5, size: 32 } : { batch: 2, frames: 5, size: 128 };
  const cases = [await forwardCase(cfg, shape), await stepCase('step', cfg, shape, false), await stepCase('decoderOnlyStep', cfg, shape, true)];
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  try {
    for (const c of cases) await c.run();
    for (let r = 0; r < reps; r++) {
      for (const c of cases) {
        const t = performance.now();
        await c.run();
        times.get(c.name)!.push((performance.now() - t) / 1000);
      }
    }
  } finally {
    for (const c of cases) await c.release();
  }
  const m = Object.fromEntries([...times].map(([k, v]) => [k, +median(v).toFixed(4)])) as Record<'forward' | 'step' | 'decoderOnlyStep', number>;
  const stepOverForward = +(m.step / m.forward).toFixed(2);
  const decoderOnlyOverStep = +(m.decoderOnlyStep / m.step).toFixed(2);
  const result = { bench: 'vae', vae: cfg, shape, reps, seconds: m, stepOverForward, decoderOnlyOverStep, goals: { stepOverForward: 4 }, pass: { stepOverForward: stepOverForward <= 4 } };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    [
      `VAE training step (z ${cfg.zDim}, dims ${cfg.encDim}/${cfg.decDim}·[${cfg.dimMult.join(', ')}], ${shape.batch} × ${shape.frames} frames at ${shape.size} px; medians of ${reps})`,
      `  forward ${m.forward} s, step ${m.step} s, decoder-only step ${m.decoderOnlyStep} s`,
      `  step / forward: ${stepOverForward} (goal ≤ 4) ${result.pass.stepOverForward ? 'ok' : 'ABOVE GOAL'}`,
      `  decoder-only step / step: ${decoderOnlyOverStep}`,
    ].join('\n') + '\n',
  );
}
