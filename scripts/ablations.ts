// `npm run ablations -- --run <refree-mini run folder>`: replays the ReFree-S2V paper's ablations on the
// synthetic world, on a shorter schedule than the shipped refree-mini, and prints one Markdown table.
//
// Every variant starts from the recipe's trained VAE and its prepared datasets (a dataset is keyed by
// the VAE and the speech front-end only, so every DiT variant reuses it):
//   full            SFT, then masked-speech DPO (β 2500, negatives with 0/20/40 % of the speech hidden)
//   sft-only        the same SFT, no DPO
//   single-level    one speech level (kernel 5 frames) instead of three (1, 5, 15); SFT + DPO
//   cross-attention windowed cross-attention instead of multi-head FiLM; SFT + DPO
//   single-level-sft, cross-attention-sft   the same two without DPO
//   beta-5000/7500  the full model's DPO with β 5000 / 7500
//   masks-0-10-20   the full model's DPO with negatives at 0/10/20 % masking
//   sft-anchor      the full model's DPO with an SFT anchor (--sft-weight 1000; not in the paper)
// Each variant is measured as the shipped model is (scripts/lib/held-out-eval.ts): merged, given the
// recipe's decoder trained on noisy latents (same encoder, so the same latent space) and sampled with
// the shipped sampler settings. Finished stages and measurements are skipped on a second run; a
// stopped training stage resumes from its checkpoint.
//   --run <dir>            the refree-mini recipe's run folder (default ../refree-mini-run)
//   --out <dir>            where the variants live (default <run>/ablations)
//   --sft-steps <n>        SFT steps of each variant (default 7000, batch 4: about 22 minutes on 2 cores)
//   --dpo-steps <n>        DPO steps of each variant (default 300, as the recipe's DPO stage)
//   --eval-clips <n>       held-out clips measured per variant (default 16, as the model card)
//   --only <a,b,…>         run only these variants
//   --budget-minutes <n>   wall-clock limit of each stage in this invocation (then it stops, resumably)
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MiniSpec } from '../engine/train/vae/mini-package.js';
import { MINI_SPEC_FILE, writeMiniPackage } from '../engine/train/vae/mini-package.js';
import { writeWithDecoder } from '../engine/train/vae/with-decoder.js';
import type { EvalRow, GroupStats } from './lib/held-out-eval.js';
import { evaluateHeldOut, groupStats, statsTable } from './lib/held-out-eval.js';
import type { MeasureDifferences } from './lib/paired.js';
import { formatDifference, measureDifferences } from './lib/paired.js';
import { exists, flagReader, Paused, ROOT, stepRunner } from './lib/recipe-steps.js';

const args = process.argv.slice(2);
const flag = flagReader(args);
const run = path.resolve(flag('run') ?? path.join(ROOT, '..', 'refree-mini-run'));
const out = path.resolve(flag('out') ?? path.join(run, 'ablations'));
const positive = (name: string, fallback: number): number => {
  const v = flag(name) === undefined ? fallback : Number(flag(name));
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive whole number, got ${flag(name)}`);
  return v;
};
const sftSteps = positive('sft-steps', 7000);
const dpoSteps = positive('dpo-steps', 300);
const evalClips = positive('eval-clips', 16);
const budgetS = flag('budget-minutes') !== undefined ? Number(flag('budget-minutes')) * 60 : Infinity;
if (!(budgetS > 0)) throw new Error(`--budget-minutes must be a positive number, got ${flag('budget-minutes')}`);

type Arch = 'multi-level' | 'single-level' | 'cross-attention';
interface Variant {
  name: string;
  /** What the table says. */
  label: string;
  arch: Arch;
  /** DPO settings, or null for SFT alone. */
  dpo: { beta: number; masks: string; sftWeight?: number } | null;
}

const VARIANTS: Variant[] = [
  { name: 'full', label: 'full (multi-level, FiLM, SFT + DPO β 2500, masks 0/20/40 %)', arch: 'multi-level', dpo: { beta: 2500, masks: '0,0.2,0.4' } },
  { name: 'sft-only', label: 'SFT only (no DPO)', arch: 'multi-level', dpo: null },
  { name: 'single-level', label: 'single speech level (kernel 5)', arch: 'single-level', dpo: { beta: 2500, masks: '0,0.2,0.4' } },
  { name: 'cross-attention', label: 'cross-attention instead of FiLM', arch: 'cross-attention', dpo: { beta: 2500, masks: '0,0.2,0.4' } },
  // The architecture variants also without DPO: the architectures compared free of what DPO does to them.
  { name: 'single-level-sft', label: 'single speech level, SFT only', arch: 'single-level', dpo: null },
  { name: 'cross-attention-sft', label: 'cross-attention, SFT only', arch: 'cross-attention', dpo: null },
  { name: 'beta-5000', label: 'DPO β 5000', arch: 'multi-level', dpo: { beta: 5000, masks: '0,0.2,0.4' } },
  { name: 'beta-7500', label: 'DPO β 7500', arch: 'multi-level', dpo: { beta: 7500, masks: '0,0.2,0.4' } },
  { name: 'masks-0-10-20', label: 'DPO masks 0/10/20 %', arch: 'multi-level', dpo: { beta: 2500, masks: '0,0.1,0.2' } },
  { name: 'sft-anchor', label: 'DPO with an SFT anchor (λ 1000)', arch: 'multi-level', dpo: { beta: 2500, masks: '0,0.2,0.4', sftWeight: 1000 } },
];

const only = flag('only')?.split(',');
const unknown = only?.filter((n) => !VARIANTS.some((v) => v.name === n)) ?? [];
if (unknown.length) throw new Error(`--only: no variant named ${unknown.join(', ')}; the variants are ${VARIANTS.map((v) => v.name).join(', ')}`);
const chosen = VARIANTS.filter((v) => !only || only.includes(v.name));

/** The spec of an architecture variant: the shipped spec with its speech modules changed. */
function variantSpec(spec: MiniSpec, arch: Arch): MiniSpec {
  if (arch === 'single-level') return { ...spec, name: `${spec.name}-single-level`, refree: { ...spec.refree, kernelSizes: [5] } };
  if (arch === 'cross-attention') return { ...spec, name: `${spec.name}-cross-attention`, refree: { ...spec.refree, mode: 'cross-attention' } };
  return spec;
}

const TRAIN_ALL = ['--train', 'all', '--targets', 'none'];
const SFT = (steps: number): string[] => ['--steps', String(steps), '--batch', '4', '--frames', '9', '--lr', '3e-4', '--warmup', '100', '--checkpoint-every', '250'];
const DPO = (steps: number, d: NonNullable<Variant['dpo']>): string[] => [
  ...['--steps', String(steps), '--batch', '1', '--frames', '9', '--lr', '1e-5', '--beta', String(d.beta), '--mask-ratios', d.masks, '--sample-steps', '6', '--checkpoint-every', '50'],
  ...(d.sftWeight === undefined ? [] : ['--sft-weight', String(d.sftWeight)]),
];

async function main(): Promise<void> {
  const R = {
    vae: path.join(run, 'vae-long', 'vae.safetensors'),
    decoder: path.join(run, 'decoder', 'vae.safetensors'),
    dataset: path.join(run, 'dataset'),
    datasetDpo: path.join(run, 'dataset-dpo'),
    clipsHeld: path.join(run, 'clips-heldout'),
  };
  for (const [what, p] of Object.entries(R)) {
    if (!(await exists(p))) throw new Error(`${p} (the recipe's ${what}) is missing: run \`npm run train:mini -- --run ${run}\` at least up to its SFT stage first`);
  }
  // The architecture the run's VAE was trained for: the spec its base package was built from (older runs
  // have none there, and were made with the shipped spec).
  const runSpec = path.join(run, 'package', MINI_SPEC_FILE);
  const shippedSpec = path.join(ROOT, 'assets', 'models', 'refree-mini', MINI_SPEC_FILE);
  const specFile = (await exists(runSpec)) ? runSpec : shippedSpec;
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as MiniSpec;
  // The sampler settings the shipped model uses (chosen after training; a run's own spec may predate them).
  const shipped = (JSON.parse(await readFile(shippedSpec, 'utf8')) as MiniSpec).generation;
  const sampler = ['--steps', String(shipped.steps), '--guidance', String(shipped.guidance), '--sampler', shipped.solver];
  const { step, cli } = stepRunner({ logs: path.join(out, 'logs'), budgetS });
  process.stdout.write(`ablations in ${out}: SFT ${sftSteps} steps, DPO ${dpoSteps} steps, ${evalClips} held-out clips each, sampled with ${shipped.steps} ${shipped.solver} steps and speech guidance ${shipped.guidance}\n`);

  const sftDone = new Map<Arch, string>();
  async function sftOf(arch: Arch): Promise<string> {
    const have = sftDone.get(arch);
    if (have) return have;
    const pkg = path.join(out, `base-${arch}`);
    await writeMiniPackage(variantSpec(spec, arch), R.vae, pkg, [`ablation base (${arch})`]);
    const runDir = path.join(out, `sft-${arch}`);
    if (await finishedWith(runDir, sftSteps)) process.stdout.write(`[sft-${arch}] done before\n`);
    else await cli(`sft-${arch}`, ['train', 'sft', '--dataset', R.dataset, '--model', pkg, '--run', runDir, ...TRAIN_ALL, ...SFT(sftSteps)]);
    const adapter = path.join(runDir, 'adapter');
    sftDone.set(arch, adapter);
    return adapter;
  }

  const groups: Record<string, GroupStats> = {};
  const rowsOf = new Map<string, EvalRow[]>();
  const minutes: Record<string, number> = {};
  for (const v of chosen) {
    const sft = await sftOf(v.arch);
    let model = sft;
    if (v.dpo) {
      const runDir = path.join(out, `dpo-${v.name}`);
      if (await finishedWith(runDir, dpoSteps)) process.stdout.write(`[dpo-${v.name}] done before\n`);
      else await cli(`dpo-${v.name}`, ['train', 'dpo', '--dataset', R.datasetDpo, '--model', sft, '--run', runDir, ...TRAIN_ALL, ...DPO(dpoSteps, v.dpo)]);
      model = path.join(runDir, 'adapter');
    }
    // Measured as the shipped package: merged, with the recipe's decoder, the shipped sampler settings.
    // Merged again on every run (about a second): a stage trained again then never leaves a stale
    // merged copy, and an unchanged one gives the same files, so the decoded package is not re-made.
    const merged = path.join(out, `merged-${v.name}`);
    await cli(`merge-${v.name}`, ['models', 'merge', model, '--out', merged, '--name', `${spec.name}-${v.name}`]);
    const decoded = path.join(out, `decoded-${v.name}`);
    await writeWithDecoder(merged, R.decoder, decoded, `decoder trained with noisy latents against the same encoder (${path.dirname(R.decoder)})`);
    const rows = await evaluateHeldOut({ name: `eval-${v.name}`, model: ['--model', decoded], generate: sampler, outDir: path.join(out, 'eval', v.name), clipsDir: R.clipsHeld, clips: evalClips, runner: { step, cli } });
    groups[v.label] = groupStats(rows);
    rowsOf.set(v.name, rows);
    minutes[v.name] = +((await stageMinutes(path.join(out, `sft-${v.arch}`))) + (v.dpo ? await stageMinutes(path.join(out, `dpo-${v.name}`)) : 0)).toFixed(1);
  }
  const table = statsTable(groups);
  const paired = pairedAgainstSftOnly(rowsOf);
  await writeFile(path.join(out, 'ablations.json'), `${JSON.stringify({ sftSteps, dpoSteps, evalClips, groups, paired, minutes }, null, 2)}\n`);
  process.stdout.write(`\n${table}\n${paired ? `\n${pairedTable(paired)}\n` : ''}\ntraining minutes per variant (SFT + DPO step times): ${JSON.stringify(minutes)}\n${path.join(out, 'ablations.json')}\n`);
}

type Paired = Record<string, MeasureDifferences>;

/** Each variant minus SFT only, clip by clip on the clips both measured (null without the SFT-only row). */
function pairedAgainstSftOnly(rowsOf: ReadonlyMap<string, EvalRow[]>): Paired | null {
  const base = rowsOf.get('sft-only');
  if (!base) return null;
  const out: Paired = {};
  for (const [name, rows] of rowsOf) {
    if (name === 'sft-only') continue;
    out[name] = measureDifferences(rows, base);
  }
  return out;
}

function pairedTable(p: Paired): string {
  const label = (name: string): string => VARIANTS.find((v) => v.name === name)!.label;
  return [
    '| minus SFT only, on the clips both measured | clips | mouthR [95 %] | confidence [95 %] | psnr [95 %] |',
    '|---|---|---|---|---|',
    ...Object.entries(p).map(([name, d]) => `| ${label(name)} | ${d.mouthR.clips} | ${formatDifference(d.mouthR)} | ${formatDifference(d.confidence)} | ${formatDifference(d.psnr)} |`),
  ].join('\n');
}

/**
 * Whether a training stage finished, with this many steps: a folder from a run with another schedule
 * is refused (it would otherwise be reused, and the table would mix schedules).
 */
async function finishedWith(runDir: string, steps: number): Promise<boolean> {
  if (!(await exists(path.join(runDir, 'adapter', 'refree.json')))) return false;
  const had = (JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { settings: { steps: number } }).settings.steps;
  if (had !== steps) throw new Error(`${runDir} was trained for ${had} steps, not ${steps}: pass --out <another folder> for this schedule, or delete that folder`);
  return true;
}

/** Minutes of training steps recorded in a run folder. */
async function stageMinutes(dir: string): Promise<number> {
  const text = await readFile(path.join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).reduce((a, l) => a + (JSON.parse(l) as { seconds: number }).seconds, 0) / 60;
}

main().catch((e: unknown) => {
  if (e instanceof Paused) {
    process.stdout.write(`\n${e.message}\n`);
    process.exitCode = 3;
    return;
  }
  process.stderr.write(`\nablations: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
