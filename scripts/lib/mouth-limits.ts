// The groups of `npm run eval:limits` (scripts/mouth-limits.ts): the held-out clips' rendered truth with
// a known loss of detail, beside the truth through the shipped VAE and the shipped model's own videos.
// Named once here, because the refree-mini model card quotes them from <run>/mouth-limits.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MiniSpec } from '../../engine/train/vae/mini-package.js';
import type { GroupStats, HeldOutEval } from './held-out-eval.js';

/** Where `npm run eval:limits` keeps its groups in a recipe run folder, and its table there. */
export const LIMITS_DIR = 'mouth-limits';
export const LIMITS_FILE = 'mouth-limits.json';

export const LIMIT_LABELS = {
  truth: 'truth (re-encoded)',
  half: 'truth at 64 px (half size)',
  px48: 'truth at 48 px',
  quarter: 'truth at 32 px (quarter size)',
  blended: 'truth, each frame blended with the one before',
  interpolated: 'truth, every other frame interpolated from its neighbours',
  halfBlended: 'truth at 64 px, blended',
  vae: 'truth through the shipped VAE',
  model: 'refree-mini (shipped)',
} as const;

export type LimitKey = keyof typeof LIMIT_LABELS;

export type LimitGroup = Pick<HeldOutEval, 'model' | 'recon' | 'degrade'>;

// Rescaled back to the clips' 128 px with the same filters each time, so only the detail differs.
const at = (px: number): string => `scale=${px}:${px}:flags=area,scale=128:128:flags=bicubic`;
const BLEND = 'tmix=frames=2';

/** Every group, in the table's order, for the shipped package in `shippedDir` (its spec `shipped`). */
export function limitGroups(shippedDir: string, shipped: MiniSpec): Record<LimitKey, LimitGroup> {
  const truth = (filter: string): LimitGroup => ({ model: [], degrade: { filter } });
  return {
    truth: truth('null'),
    half: truth(at(64)),
    px48: truth(at(48)),
    quarter: truth(at(32)),
    blended: truth(BLEND),
    interpolated: truth('framestep=2,minterpolate=fps=15:mi_mode=blend'),
    halfBlended: truth(`${at(64)},${BLEND}`),
    vae: { model: [], recon: { cfg: shipped.architecture.vae, vaeFile: path.join(shippedDir, 'vae.safetensors') } },
    model: { model: ['--model', shippedDir] },
  };
}

/** The measured table of an earlier `npm run eval:limits --out <dir>`, keyed as LIMIT_LABELS; null if none. */
export async function readLimits(dir: string): Promise<Partial<Record<LimitKey, GroupStats>> | null> {
  const text = await readFile(path.join(dir, LIMITS_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  const byLabel = JSON.parse(text) as Record<string, GroupStats>;
  return Object.fromEntries(Object.entries(LIMIT_LABELS).filter(([, label]) => byLabel[label]).map(([k, label]) => [k, byLabel[label]!]));
}
