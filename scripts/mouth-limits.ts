// `npm run eval:limits -- --run <refree-mini run folder>`: how much of the mouth-opening correlation
// `refree eval` can still read after a known loss of detail. The held-out clips' rendered truth is
// measured as it is, at lower resolutions, with neighbouring frames blended and with every other frame
// interpolated — beside the truth through the shipped VAE and the shipped model's own videos. It says
// what a model has to draw, in pixels and in time, for a given mouth correlation (docs/TRAINING.md,
// "What the mouth measure can see"); the model card quotes it from <run>/mouth-limits.
//   --run <dir>        the refree-mini recipe's run folder, for its held-out clips (default ../refree-mini-run)
//   --out <dir>        where the videos and measurements go (default <run>/mouth-limits)
//   --clips <n>        held-out clips measured (default 16, as the model card)
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MiniSpec } from '../engine/train/vae/mini-package.js';
import type { GroupStats } from './lib/held-out-eval.js';
import { evaluateHeldOut, groupStats, statsTable } from './lib/held-out-eval.js';
import type { LimitGroup, LimitKey } from './lib/mouth-limits.js';
import { LIMIT_LABELS, LIMITS_DIR, LIMITS_FILE, limitGroups } from './lib/mouth-limits.js';
import { clipCount, flagReader, ROOT, stepRunner } from './lib/recipe-steps.js';

const flag = flagReader(process.argv.slice(2));
const run = path.resolve(flag('run') ?? path.join(ROOT, '..', 'refree-mini-run'));
const out = path.resolve(flag('out') ?? path.join(run, LIMITS_DIR));
const clips = Number(flag('clips') ?? 16);
if (!(Number.isInteger(clips) && clips > 0)) throw new Error(`--clips must be a positive whole number, got ${flag('clips')}`);

const clipsDir = path.join(run, 'clips-heldout');
if ((await clipCount(clipsDir)) < clips) {
  process.stderr.write(`${clipsDir} has fewer than ${clips} held-out clips: give the folder of a refree-mini recipe run with --run, or make one with \`npm run train:mini\`.\n`);
  process.exit(2);
}

const SHIPPED = path.join(ROOT, 'assets', 'models', 'refree-mini');
const shipped = JSON.parse(await readFile(path.join(SHIPPED, 'refree.json'), 'utf8')) as MiniSpec;
const groups = Object.entries(limitGroups(SHIPPED, shipped)) as [LimitKey, LimitGroup][];

const runner = stepRunner({ logs: path.join(out, 'logs'), budgetS: Infinity });
const stats: Record<string, GroupStats> = {};
for (const [i, [key, g]] of groups.entries()) {
  process.stderr.write(`[${i + 1}/${groups.length}] ${LIMIT_LABELS[key]}\n`);
  const rows = await evaluateHeldOut({ ...g, name: `limits-${key}`, outDir: path.join(out, key), clipsDir, clips, runner });
  stats[LIMIT_LABELS[key]] = groupStats(rows);
}
await writeFile(path.join(out, LIMITS_FILE), `${JSON.stringify(stats, null, 2)}\n`);
console.log(statsTable(stats));
