// `refree synth` as a user runs it: clips and truth files on disk, --json output and progress lines,
// the same clips from the same options, and clear errors for bad options and unusable folders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ClipTruth } from '../synth/types.js';
import { main } from './main.js';

const BIN = fileURLToPath(new URL('../../bin/refree.mjs', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-cli-synth-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const refree = (...args: string[]) => spawnSync(process.execPath, [BIN, 'synth', ...args], { encoding: 'utf8', timeout: 120_000 });

test('refree synth --json writes N clips (mp4 + truth json), one JSON object on stdout, progress lines on stderr', () => {
  const out = path.join(tmp, 'a', 'clips');
  const r = refree('--out', out, '--count', '3', '--seed', '10', '--split', 'heldout', '--seconds', '1', '--size', '64', '--json');
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { ok: boolean; folder: string; count: number; seconds: number; clips: { name: string; video: string; truth: string; frames: number }[] };
  assert.equal(res.ok, true);
  assert.equal(res.folder, out);
  assert.equal(res.count, 3);
  assert.equal(res.seconds, 3);
  assert.deepEqual(res.clips.map((c) => c.name), ['synth-heldout-10', 'synth-heldout-11', 'synth-heldout-12']);
  assert.deepEqual(readdirSync(out).sort(), ['synth-heldout-10.json', 'synth-heldout-10.mp4', 'synth-heldout-11.json', 'synth-heldout-11.mp4', 'synth-heldout-12.json', 'synth-heldout-12.mp4']);
  const truth = JSON.parse(readFileSync(res.clips[1]!.truth, 'utf8')) as ClipTruth;
  assert.deepEqual([truth.seed, truth.split, truth.frames, truth.size], [11, 'heldout', 15, 64]);
  const progress = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; done: number; total: number; etaS: number });
  assert.deepEqual(progress.map((p) => [p.type, p.done, p.total]), [['progress', 1, 3], ['progress', 2, 3], ['progress', 3, 3]]);
  assert.ok(progress.every((p) => p.etaS >= 0));

  // The same options again: the same truth, byte for byte; the human form prints a summary.
  const again = path.join(tmp, 'b');
  const h = refree('--out', again, '--count', '1', '--seed', '11', '--split', 'heldout', '--seconds', '1', '--size', '64');
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^1 heldout clips, 1 s of video at 64×64, 15 fps \(seeds 11–11\)/);
  assert.match(h.stdout, new RegExp(`folder: ${again}`));
  assert.match(h.stderr, /100% \[=+\] 1\/1 clips, .*ETA 0s/);
  assert.equal(readFileSync(path.join(again, 'synth-heldout-11.json'), 'utf8'), readFileSync(res.clips[1]!.truth, 'utf8'));
});

test('refree synth: bad options and unusable folders are clear sentences (exit 2 for the command line)', async () => {
  const file = path.join(tmp, 'a-file');
  writeFileSync(file, 'x');
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--out <folder> is required/],
    [['--out', file], 2, /is a file, not a folder/],
    [['--out', path.join(file, 'sub')], 2, /part of that path is a file/],
    [['--out', tmp, '--count', 'abc'], 2, /--count must be a whole number from 1 to 100000, got "abc"/],
    [['--out', tmp, '--count', '0'], 2, /--count must be a whole number/],
    [['--out', tmp, '--seed=-1'], 2, /--seed must be a whole number/],
    [['--out', tmp, '--size', '65'], 2, /--size must be even/],
    [['--out', tmp, '--seconds', 'x'], 2, /--seconds must be a number from 0.2 to 600/],
    [['--out', tmp, '--split', 'test'], 2, /--split must be train or heldout, got "test"/],
    // /sys refuses new folders even for root.
    [['--out', '/sys/refree-synth-test'], 1, /cannot write into the folder \/sys\/refree-synth-test/],
  ];
  for (const [args, code, message] of cases) {
    // In process (the launcher itself is covered above): only the command's own checks are under test.
    let stdout = '';
    const io = { isTTY: false, stdout: (t: string) => void (stdout += t), stderr: () => {} };
    assert.equal(await main(['synth', ...args, '--json'], io), code, `${args.join(' ')}: ${stdout}`);
    const res = JSON.parse(stdout) as { ok: boolean; error: string };
    assert.equal(res.ok, false);
    assert.match(res.error, message);
  }
});
