// `npm run demo` and `refree generate` as a user runs them (child processes): the demo video's streams,
// rate, duration, metadata and watermark; and kill -9 in the middle of a job, then --resume, giving the
// same frames as the uninterrupted demo run.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUILT_IN_MODEL_DIR } from '../pipeline/demo-model.js';
import { jobDir } from '../pipeline/job-files.js';
import { ffprobePath } from '../runtime/ffmpeg.js';
import { readMetadata } from '../watermark/metadata.js';
import { verifyVideo } from '../watermark/verify.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'refree.mjs');
let tmp = '';
let env: NodeJS.ProcessEnv = {};
let demo: { output: string; frameDigest: string; payload: string; speechDuration: number; frames: number; model: { name: string; dir: string } } | null = null;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-cli-gen-'));
  env = { ...process.env, REFREE_CACHE_DIR: path.join(tmp, 'cache') };
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('npm run demo: the built-in refree-mini package, one H.264 and one AAC stream at 15 fps, duration = speech ± 1 frame, AI metadata, label, payload verified', async () => {
  const out = path.join(tmp, 'demo.mp4');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts'), '--out', out, '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  demo = JSON.parse(r.stdout) as typeof demo;
  assert.equal(demo!.output, out);
  assert.deepEqual([demo!.model.name, demo!.model.dir], ['refree-mini', BUILT_IN_MODEL_DIR], 'the shipped package, no generated one');
  assert.ok(!('notice' in demo!), 'no untrained-model notice');
  assert.doesNotMatch(r.stdout + r.stderr, /untrained|expect noise/);
  const probe = JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,avg_frame_rate,duration', '-of', 'json', out], { encoding: 'utf8' })) as {
    streams: { codec_type: string; codec_name: string; avg_frame_rate: string; duration: string }[];
  };
  const v = probe.streams.filter((s) => s.codec_type === 'video');
  const a = probe.streams.filter((s) => s.codec_type === 'audio');
  assert.deepEqual([v.length, a.length, v[0]!.codec_name, a[0]!.codec_name], [1, 1, 'h264', 'aac']);
  assert.equal(v[0]!.avg_frame_rate, '15/1');
  assert.ok(Math.abs(Number(v[0]!.duration) - demo!.speechDuration) <= 1 / 15 + 1e-6, `video ${v[0]!.duration} s vs speech ${demo!.speechDuration} s`);
  const meta = await readMetadata(out);
  assert.equal(meta.aiGenerated, true);
  assert.equal(meta.model, 'refree-mini');
  const ver = await verifyVideo(out);
  assert.equal(ver.watermark.found, true);
  assert.equal(ver.watermark.payload, demo!.payload);
});

test('kill -9 after the first chunk checkpoint, then --resume: the frames equal the uninterrupted run', async () => {
  assert.ok(demo, 'needs the demo run above');
  const out = path.join(tmp, 'killed.mp4');
  const args = [BIN, 'generate', '--portrait', path.join(ROOT, 'assets', 'demo', 'avatar.png'), '--audio', path.join(ROOT, 'assets', 'demo', 'speech.wav'), '--seed', '0', '--out', out, '--json'];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  const firstChunk = path.join(jobDir(out), 'chunk-0.safetensors');
  const deadline = Date.now() + 90_000;
  while (!existsSync(firstChunk) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the job was still running when killed');
  assert.ok(!existsSync(out), 'no finished video after the crash');

  const r = spawnSync(process.execPath, [...args, '--resume'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { ok: boolean; resumedChunks: number; frameDigest: string; frames: number };
  assert.ok(res.resumedChunks >= 1);
  assert.equal(res.frames, demo!.frames);
  assert.equal(res.frameDigest, demo!.frameDigest);
  assert.ok(!existsSync(jobDir(out)), 'the job folder is removed once the video is done');
  // JSON progress lines went to stderr.
  assert.ok(r.stderr.split('\n').some((l) => l.startsWith('{"type":"progress"')));
});

test('refree generate: usage errors name the missing option', () => {
  const r = spawnSync(process.execPath, [BIN, 'generate', '--portrait', 'x.png', '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(JSON.parse(r.stdout).error, /--audio/);
});

test('refree generate: an unknown sampler is a usage error that names the choices', () => {
  const r = spawnSync(process.execPath, [BIN, 'generate', '--portrait', 'x.png', '--audio', 'y.wav', '--out', 'z.mp4', '--sampler', 'ddim', '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(JSON.parse(r.stdout).error, /--sampler must be euler or unipc, got "ddim"/);
});
