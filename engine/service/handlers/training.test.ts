// training.* through the real service and engine process: synthetic clips are checked as they arrive
// (a faceless clip and a silent one refused with their reasons), the CPU preset's estimate fits, a tiny
// SFT runs as a queue job of kind 'training', its metrics come back step by step, and the result is
// saved as a model package that models.list then offers to Generate.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runFfmpeg } from '../../media/ffmpeg-run.js';
import { TINY_RANDOM_NAME, tinyRandomPackage } from '../../pipeline/testing/random-package.js';
import { writeClip } from '../../synth/clip.js';
import type { TrainingSession } from '../contract.js';
import { StudioService } from '../service.js';

let dir = '';
let svc: StudioService;

async function call<T>(method: string, params: unknown): Promise<T> {
  const r = await svc.dispatch(method, params);
  if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refree-training-svc-'));
  process.env.REFREE_CACHE_DIR = path.join(dir, 'cache');
  // The tiny random package, installed as an imported one, so that training takes seconds.
  await tinyRandomPackage({ dir: path.join(dir, 'data', 'models', TINY_RANDOM_NAME) });
  svc = await StudioService.create({ dataDir: path.join(dir, 'data') });
});
after(async () => {
  await svc.close();
  await rm(dir, { recursive: true, force: true });
});

test('clips are checked as they arrive; a tiny SFT runs in the queue and is saved as a model', { timeout: 240_000 }, async () => {
  const src = path.join(dir, 'src');
  const good = await Promise.all([0, 1].map((i) => writeClip(src, `talk${i}`, { seed: 40 + i, split: 'train', seconds: 1.4, size: 128 })));
  // No face: a test pattern with a tone. No speech: a synthetic face with its sound replaced by silence.
  const noFace = path.join(src, 'pattern.mp4');
  assert.equal((await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=128x128:rate=15:duration=1.5', '-f', 'lavfi', '-i', 'sine=frequency=220:duration=1.5', '-shortest', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', noFace])).code, 0);
  const silent = path.join(src, 'silent.mp4');
  assert.equal((await runFfmpeg(['-v', 'error', '-y', '-i', good[0]!.video, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-map', '0:v', '-map', '1:a', '-shortest', '-c:v', 'copy', '-c:a', 'aac', silent])).code, 0);

  const s = await call<TrainingSession>('training.create', { name: 'My voice', model: TINY_RANDOM_NAME });
  for (const g of good) {
    const c = await call<{ accepted: boolean; reason: string | null; thumbnailUrl: string | null; checks: { face: { ok: boolean } } }>('training.addClip', { id: s.id, path: g.video });
    assert.equal(c.accepted, true, JSON.stringify(c));
    assert.ok(c.thumbnailUrl?.startsWith('/media/data/'), 'a thumbnail URL under the data root');
  }
  const nf = await call<{ accepted: boolean; reason: string; fix: string }>('training.addClip', { id: s.id, path: noFace });
  assert.equal(nf.accepted, false);
  assert.match(nf.reason, /No face found/);
  assert.match(nf.fix, /Face the camera/);
  // The silent clip arrives as an upload in three parts (as the page sends a large video).
  const bytes = await readFile(silent);
  const cut = [0, Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3), bytes.length];
  const outOfOrder = await svc.dispatch('training.uploadClip', { id: s.id, name: 'silent.mp4', dataBase64: bytes.subarray(cut[1], cut[2]).toString('base64'), offset: cut[1], final: false });
  assert.equal(outOfOrder.ok, false, 'a part before the first is refused');
  let sl: { received: number; clip: { accepted: boolean; reason: string } | null } | null = null;
  for (let i = 0; i < 3; i++) sl = await call('training.uploadClip', { id: s.id, name: 'silent.mp4', dataBase64: bytes.subarray(cut[i], cut[i + 1]).toString('base64'), offset: cut[i], final: i === 2 });
  assert.equal(sl!.received, bytes.length);
  assert.equal(sl!.clip?.accepted, false);
  assert.match(sl!.clip!.reason, /No speech/);

  const bad = await svc.dispatch('training.addClip', { id: s.id, path: path.join(src, 'talk0.json') });
  assert.equal(bad.ok, false);

  const presets = await call<{ id: string; sft: Record<string, unknown>; estimate: { fits: boolean; peakBytes: number } | null }[]>('training.presets', { model: TINY_RANDOM_NAME });
  const cpu = presets.find((p) => p.id === 'cpu')!;
  assert.equal(cpu.estimate?.fits, true);
  assert.ok(cpu.estimate!.peakBytes > 0);

  const settings = { ...cpu.sft, steps: 6, checkpointEvery: 3 };
  const { jobId } = await call<{ jobId: string }>('training.start', { id: s.id, stage: 'sft', settings });
  const job = await svc.queue.settled(jobId, 200_000);
  assert.equal(job.state, 'done', JSON.stringify(job.history));
  assert.equal(job.kind, 'training');
  const m = await call<{ rows: { step: number; loss: number }[]; steps: number }>('training.metrics', { id: s.id, stage: 'sft' });
  assert.deepEqual(m.rows.map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  assert.equal(m.steps, 6);
  assert.ok(m.rows.every((r) => Number.isFinite(r.loss)));

  const after1 = await call<TrainingSession>('training.get', { id: s.id });
  assert.equal(after1.sft?.finished, true);
  assert.equal(after1.clips.filter((c) => c.accepted).length, 2);

  const saved = await call<{ name: string; path: string }>('training.save', { id: s.id, name: 'my-voice' });
  assert.equal(saved.name, 'my-voice');
  const models = await call<{ name: string }[]>('models.list', {});
  assert.ok(models.some((x) => x.name === 'my-voice'), 'the saved adapter is an installed model');
  const again = await svc.dispatch('training.save', { id: s.id, name: 'my-voice' });
  assert.equal(again.ok, false);
  if (!again.ok) assert.match(again.error.message, /already exists/);
});
