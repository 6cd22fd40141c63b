// `refree eval`: the summary and --json report on a synthetic clip with its truth, --calibrate on a
// small folder, and the sentences and exit codes for bad input — on real clips, real ffmpeg, real FaceMesh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTalkingClip } from '../eval/test-clip.js';
import { writeClip } from '../synth/index.js';
import type { WrittenClip } from '../synth/index.js';
import type { CliIO } from './command.js';
import { main } from './main.js';

let dir = '';
let clips = '';
let clip: WrittenClip;

function captureIO(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += `${t}\n`), stderr: (t: string) => void (io.err += t) };
  return io;
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'refree-eval-cli-'));
  clips = path.join(dir, 'clips');
  clip = await writeClip(clips, 'one', { seed: 21, split: 'train', seconds: 3, size: 192 });
  await writeClip(clips, 'two', { seed: 22, split: 'heldout', seconds: 3, size: 192 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('refree eval <video> --truth: readable summary, progress with ETA on stderr; --json: one object', async () => {
  let io = captureIO();
  assert.equal(await main(['eval', clip.video, '--truth', clip.truthFile], io), 0, io.err);
  const out = io.out.split('\n');
  assert.match(out[0]!, /one\.mp4: 45 frames at 15 fps \(3\.00 s\), 192×192; face in 45\/45 frames$/);
  assert.match(out[1]!, /^lip sync: offset [-+]?\d+ frames \(-?\d\.\d\d s.*\), distance \d\.\d{3}, confidence \d\.\d{3} \(combined mouth measure, searched ±15 frames\)$/);
  assert.match(io.out, /\n {2}mouth opening r: landmarks -?\d\.\d{3}, dark area -?\d\.\d{3}, darkness -?\d\.\d{3}, combined \d\.\d{3}\n/);
  assert.match(io.out, /\n {2}PSNR 100\.00 dB \(first frame 100\.00, worst 100\.00\), SSIM 1\.0000/);
  assert.match(io.err, /100% \[=+\] face landmarks, frame 45\/45, \d+s elapsed, ETA 0s\n/);

  io = captureIO();
  assert.equal(await main(['eval', clip.video, '--json', '--series', '--max-offset', '10'], io), 0, io.err);
  const j = JSON.parse(io.out) as { ok: boolean; sync: { offset: number; maxOffset: number; distances: number[] }; truth: null; series: { mouth: number[]; mouthLandmark: number[]; envelope: number[] } };
  assert.equal(j.ok, true);
  assert.equal(j.truth, null);
  assert.equal(j.sync.maxOffset, 10);
  assert.equal(j.sync.distances.length, 21);
  assert.ok(Math.abs(j.sync.offset) <= 1, `offset ${j.sync.offset}`);
  assert.equal(j.series.mouth.length, 45);
  assert.equal(j.series.mouthLandmark.length, 45);
  assert.ok(j.series.mouthLandmark.some((v) => v > 0.02), 'the raw inner-lip opening of a talking clip opens beyond closed');
  for (const line of io.err.trim().split('\n')) assert.equal((JSON.parse(line) as { type: string }).type, 'progress');
});

test('refree eval --calibrate <folder>: true vs shifted confidence, offsets, r with truth, a threshold', async () => {
  let io = captureIO();
  assert.equal(await main(['eval', '--calibrate', clips], io), 0, io.err);
  assert.match(io.out, /^2 clips measured in /);
  assert.match(io.out, /\n {2}combined \(primary\) +\d\.\d{3} \(\d\.\d{3} … \d\.\d{3}\) +\d\.\d{3} \(/);
  assert.match(io.out, /\ntrue clips: confidence \d\.\d{3} .*best offset/);
  assert.match(io.out, /\nspeech shifted by ≥ 1 s: confidence /);
  assert.match(io.out, /\nsuggested threshold: confidence above \d\.\d{3} means in sync/);
  assert.match(io.err, /clip 2\/2, face landmarks/);

  io = captureIO();
  const empty = path.join(dir, 'empty');
  mkdirSync(empty);
  assert.equal(await main(['eval', '--calibrate', empty], io), 1);
  assert.match(io.err, /refree eval: the clips folder .*empty holds no \.mp4 files/);
  io = captureIO();
  assert.equal(await main(['eval', '--calibrate', path.join(dir, 'nowhere'), '--json'], io), 1);
  assert.match((JSON.parse(io.out) as { error: string }).error, /the clips folder .*nowhere does not exist/);
});

test('bad input: a clear sentence and a non-zero exit code', async () => {
  let io = captureIO();
  assert.equal(await main(['eval', path.join(dir, 'missing.mp4')], io), 1);
  assert.match(io.err, /refree eval: cannot read video .*missing\.mp4: no such file/);

  const mute = await writeTalkingClip(path.join(dir, 'mute.mp4'), { seconds: 1, silentTrack: true });
  io = captureIO();
  assert.equal(await main(['eval', mute.file], io), 1);
  assert.match(io.err, /refree eval: .*mute\.mp4 has no sound track: lip sync is measured against the speech/);

  io = captureIO();
  assert.equal(await main(['eval', clip.truthFile], io), 1);
  assert.match(io.err, /refree eval: cannot read video .*one\.json: /);

  io = captureIO();
  assert.equal(await main(['eval'], io), 2);
  assert.match(io.err, /which video\?/);
  io = captureIO();
  assert.equal(await main(['eval', clip.video, '--max-offset', 'x'], io), 2);
  assert.match(io.err, /--max-offset must be a whole number/);
  io = captureIO();
  assert.equal(await main(['eval', '--calibrate', clips, '--truth', clip.truthFile], io), 2);
  assert.match(io.err, /--truth does not go with --calibrate/);
});
