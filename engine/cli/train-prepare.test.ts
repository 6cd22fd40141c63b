import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tinyRandomPackage } from '../pipeline/testing/random-package.js';
import { readDataset } from '../train/prepare/index.js';
import { writeTestClip } from '../train/prepare/test-clips.test-helper.js';
import type { CommandContext } from './command.js';
import { UsageError } from './command.js';
import { TRAIN_PREPARE_HELP, TRAIN_PREPARE_OPTIONS, trainPrepareCommand } from './train-prepare.js';

let tmp: string;
let model: string;
const oldCache = process.env.REFREE_CACHE_DIR;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'refree-train-prepare-cli-'));
  process.env.REFREE_CACHE_DIR = path.join(tmp, 'refree-cache');
  model = await tinyRandomPackage();
});

after(async () => {
  if (oldCache === undefined) delete process.env.REFREE_CACHE_DIR;
  else process.env.REFREE_CACHE_DIR = oldCache;
  await rm(tmp, { recursive: true, force: true });
});

function ctx(positionals: string[], values: CommandContext['values'], json: boolean): { c: CommandContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { c: { positionals, values, json, io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false }, signal: new AbortController().signal }, out, err };
}

test('help and options name the command and its flags', () => {
  assert.match(TRAIN_PREPARE_HELP, /^Usage: refree train prepare <folder> --model <package>/);
  assert.deepEqual(Object.keys(TRAIN_PREPARE_OPTIONS).sort(), ['backend', 'max-seconds', 'model', 'out', 'size']);
});

test('usage errors: no folder, no model, bad numbers', async () => {
  await assert.rejects(trainPrepareCommand(ctx(['prepare'], { model }, false).c), (e: unknown) => e instanceof UsageError && /give the folder of clips/.test((e as Error).message));
  await assert.rejects(trainPrepareCommand(ctx([tmp], {}, false).c), /--model <package> is required/);
  await assert.rejects(trainPrepareCommand(ctx([tmp], { model, size: 'big' }, false).c), /--size must be a positive whole number, got "big"/);
  await assert.rejects(trainPrepareCommand(ctx([tmp], { model, 'max-seconds': '0.5' }, false).c), /--max-seconds must be at least 1\.13 \(17 frames at 15 fps\), got 0\.5/);
});

test('a missing folder is one JSON error object; a folder of clips gives JSON progress and one result', async () => {
  const missing = ctx([path.join(tmp, 'nope')], { model }, true);
  assert.equal(await trainPrepareCommand(missing.c), 1);
  assert.equal(missing.out.length, 1);
  const bad = JSON.parse(missing.out[0]!) as { ok: boolean; error: string };
  assert.equal(bad.ok, false);
  assert.match(bad.error, /the clips folder .*nope does not exist/);

  const clips = path.join(tmp, 'clips');
  await mkdir(clips);
  await writeTestClip(path.join(clips, 'talk.mp4'), 'face', 20);
  await writeTestClip(path.join(clips, 'short.mp4'), 'face', 12);
  // --max-seconds 1.2 cuts the 20-frame clip to 18 frames (17 kept) with a warning.
  const run = ctx(['prepare', clips], { model, out: path.join(tmp, 'ds'), 'max-seconds': '1.2' }, true);
  assert.equal(await trainPrepareCommand(run.c), 0);
  assert.equal(run.out.length, 1);
  const r = JSON.parse(run.out[0]!) as { ok: boolean; accepted: number; refused: number; clips: { id: string; status: string; reason?: string; frames?: number; warnings?: string[] }[] };
  assert.equal(r.ok, true);
  const talk = r.clips.find((c) => c.id === 'talk')!;
  assert.equal(talk.frames, 17);
  assert.match(talk.warnings!.join(' '), /talk\.mp4 is 1\.33 s long; only its first 1\.2 s are used/);
  assert.equal(r.accepted, 1);
  assert.equal(r.refused, 1);
  assert.match(r.clips.find((c) => c.id === 'short')!.reason!, /too short: 12 frames/);
  const events = run.err.join('').trim().split('\n').map((l) => JSON.parse(l) as { type: string; etaS?: number | null });
  assert.ok(events.some((e) => e.type === 'progress' && typeof e.etaS === 'number'));
  assert.ok(events.some((e) => e.type === 'clip-done'));

  // Text mode, second run: everything from the cache, the refusal repeated with its reason.
  const text = ctx([clips], { model, out: path.join(tmp, 'ds'), 'max-seconds': '1.2' }, false);
  assert.equal(await trainPrepareCommand(text.c), 0);
  assert.match(text.out.join(''), /1 clip\(s\) prepared, 1 refused, 2 from the cache/);
  assert.match(text.out.join(''), /refused short: .*too short/);

  // Nothing usable: the dataset is written but the command fails with a sentence.
  const none = path.join(tmp, 'none');
  await mkdir(none);
  await writeTestClip(path.join(none, 'short.mp4'), 'face', 12);
  const n = ctx([none], { model, out: path.join(tmp, 'none-out') }, false);
  assert.equal(await trainPrepareCommand(n.c), 1);
  assert.match(n.err.join(''), /none of the 1 clip\(s\) could be used; each one's reason is in .*none-out\/dataset\.json/);
  assert.equal((await readDataset(path.join(tmp, 'none-out'))).clips[0]!.status, 'refused');
});
