// The refree-mini recipe's smoke run (`npm run train:mini -- --quick`): every stage runs on a few short
// clips and leaves its result; run again, every stage is found finished and skipped. Takes a minute or
// two on 2 cores (the stages are real: synth, VAE training, prepare, SFT, DPO, merge, generate, eval).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const recipe = (run: string): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'train-mini.ts'), '--quick', '--run', run], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

test('the quick recipe runs every stage, prints each reproducing command, and a second run skips them all', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'refree-mini-'));
  const run = path.join(dir, 'run');
  const first = recipe(run);
  assert.equal(first.status, 0, first.out);
  for (const cmd of ['refree synth --out', 'train-vae.ts --clips', 'refree train prepare', 'refree train sft', '--train all --targets none', 'refree train dpo', 'refree models merge', 'refree generate', 'refree eval']) {
    assert.ok(first.out.includes(cmd) || (cmd === 'train-vae.ts --clips' && first.out.includes('refree train vae --clips')), `missing "${cmd}" in:\n${first.out}`);
  }
  const summary = JSON.parse(await readFile(path.join(run, 'summary.json'), 'utf8')) as { vae: { train: { psnr: number; mouthPsnr: number } }; final: unknown[] };
  assert.ok(summary.vae.train.psnr > 0 && summary.vae.train.mouthPsnr > 0);
  assert.equal(summary.final.length, 1);
  assert.ok(await stat(path.join(run, 'final', 'refree.json')));
  // The anchor stage trains anchored windows; only the package trained so samples with the anchor.
  assert.ok(first.out.includes('--run ' + path.join(run, 'sft-anchor')) && first.out.includes('--anchor-share 0.5'), first.out);
  const generation = async (d: string): Promise<{ portraitAnchor?: boolean }> => JSON.parse(await readFile(path.join(run, d, 'generation.json'), 'utf8')) as { portraitAnchor?: boolean };
  assert.equal((await generation('shipped')).portraitAnchor, true);
  assert.equal((await generation('final')).portraitAnchor, undefined);
  assert.equal((await generation('shipped-no-anchor')).portraitAnchor, undefined);
  const more = summary as unknown as { long: Record<'long' | 'minute', Record<'plain' | 'shipped', unknown[]>>; skin: Record<'vae' | 'plain' | 'shipped', Record<'darker' | 'lighter', { clips: number }>> };
  for (const kind of ['long', 'minute'] as const) for (const which of ['plain', 'shipped'] as const) assert.equal(more.long[kind][which].length, 1);
  assert.equal(more.skin.shipped.darker.clips + more.skin.shipped.lighter.clips, 1);
  const second = recipe(run);
  assert.equal(second.status, 0, second.out);
  for (const s of ['synth-train', 'vae', 'prepare', 'sft', 'sft-anchor', 'merge-anchor', 'dpo', 'merge']) assert.match(second.out, new RegExp(`\\[${s}\\] done before`));
  assert.doesNotMatch(second.out, /\] done in /);
});
