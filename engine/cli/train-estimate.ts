// `refree train sft|dpo --estimate`: the peak memory and time per step of a training step for the
// chosen model, size, frames and backend, from the real training graph (built, never run).
import { stat } from 'node:fs/promises';
import { ARCHITECTURES } from '../model/config.js';
import type { ModelArchitecture } from '../model/config.js';
import { readManifest, resolveArchitecture, resolveReFreeConfig } from '../model/package/manifest.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { REFREE_5B, REFREE_TINY } from '../model/refree/config.js';
import { packageDefaults } from '../pipeline/defaults.js';
import type { EstimateBackend } from '../train/estimate.js';
import { estimateTrainStep, formatEstimate, measureCpuRates } from '../train/estimate.js';
import type { DpoSettings, SftSettings } from '../train/settings.js';
import { DPO_DEFAULTS, SFT_DEFAULTS } from '../train/settings.js';
import type { CommandContext } from './command.js';
import { UsageError } from './command.js';

const PRESETS: Readonly<Record<string, ReFreeConfig>> = { 'wan2.2-ti2v-5b': REFREE_5B, tiny: REFREE_TINY };

async function modelOf(arg: string): Promise<{ arch: ModelArchitecture; refree: ReFreeConfig; size: number }> {
  const known = ARCHITECTURES[arg];
  if (known) {
    const refree = PRESETS[arg];
    if (!refree) throw new UsageError(`no speech adapter preset for "${arg}"; give a model package instead`);
    return { arch: known, refree, size: known.name === 'tiny' ? 64 : 480 };
  }
  if (!(await stat(arg).catch(() => null))) throw new UsageError(`--model ${arg} is neither a model package folder nor an architecture name (${Object.keys(ARCHITECTURES).join(', ')})`);
  const { dir, manifest } = await readManifest(arg);
  const arch = resolveArchitecture(manifest.architecture);
  const refree = manifest.components.refree ? resolveReFreeConfig(manifest.components.refree.config) : PRESETS[arch.name];
  if (!refree) throw new UsageError(`the package ${dir} has no speech adapter configuration to train`);
  return { arch, refree, size: (await packageDefaults(manifest.adapter ? manifest.adapter.base.dir : dir)).size };
}

export async function estimateCommand(ctx: CommandContext, stage: 'sft' | 'dpo', given: Partial<SftSettings & DpoSettings>): Promise<number> {
  const v = ctx.values;
  if (typeof v.model !== 'string') throw new UsageError('--model <package or architecture name> is required with --estimate');
  const m = await modelOf(v.model);
  const backend = (v.backend ?? 'cpu') as EstimateBackend;
  const size = v.size === undefined ? m.size : Number(v.size);
  if (!Number.isInteger(size) || size < 16) throw new UsageError(`--size must be a whole number of pixels, got "${String(v.size)}"`);
  const d = stage === 'sft' ? SFT_DEFAULTS : DPO_DEFAULTS;
  const s = { ...d, ...given };
  const dtype = backend === 'cpu' ? 'float32' : 'float16';
  const req = {
    arch: m.arch,
    refree: m.refree,
    settings: { lora: s.lora ?? null, ditGroups: s.ditGroups ?? [], frames: s.frames, batch: s.batch, recompute: s.recompute },
    size,
    stage,
    dpoK: ((given.maskRatios ?? DPO_DEFAULTS.maskRatios).length ?? 3) + 1,
    backend,
    baseDtype: dtype,
    activationDtype: dtype,
    // On this machine's CPU the rates are measured (about a second); GPU rates are stated assumptions.
    ...(backend === 'cpu' ? { rates: await measureCpuRates() } : {}),
  } as const;
  const e = estimateTrainStep(req);
  if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: true, stage, model: v.model, size, backend, ...e }));
  else ctx.io.stdout(formatEstimate(e, req));
  return 0;
}
