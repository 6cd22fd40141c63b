// The farm queue's controls with a real redis-server and a real worker (engine process, pipeline):
// reorder (priorities), pause and resume of a waiting and of a running job (it resumes from its
// checkpoint), cancel (never retried; Retry runs it again), and a job that fails three times is parked
// as failed with its reason.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import type { FarmJobState, FarmJobView } from './job-view.js';
import { FarmQueue } from './queue.js';
import { TestRedis, redisSkipReason } from './testing/redis-server.js';
import { farmWorkDir } from './shared-folder.js';
import { FarmWorker, engineJobId } from './worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = redisSkipReason();
let tmp = '';
let shared = '';
let redis: TestRedis | null = null;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-farm-controls-'));
  shared = path.join(tmp, 'shared');
  mkdirSync(path.join(shared, 'out'), { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'avatar.png'), path.join(shared, 'avatar.png'));
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'speech.wav'), path.join(shared, 'speech.wav'));
  writeFileSync(path.join(shared, 'broken.png'), 'this is not an image');
  redis = await TestRedis.start();
});
after(async () => {
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function exportParams(name: string, over: { portrait?: string; seconds?: number } = {}): GenerateJobParams {
  return {
    mode: 'export',
    portrait: { path: path.join(shared, over.portrait ?? 'avatar.png'), crop: null },
    audio: { path: path.join(shared, 'speech.wav'), trim: { start: 0, end: over.seconds ?? 1.5 } },
    settings: { model: 'refree-mini', steps: 2, seed: 3, guidance: 4.5, width: 256, height: 256, fps: 15, sampler: 'unipc' },
    seconds: null,
    output: path.join(shared, 'out', `${name}.mp4`),
    watermark: { visible: true, text: 'AI-generated · ReFree', position: 'bottom-right' },
    modelPath: null,
  };
}

async function waitFor(q: FarmQueue, id: string, states: FarmJobState[], timeoutMs = 120_000, extra: (v: FarmJobView) => boolean = () => true): Promise<FarmJobView> {
  const t0 = Date.now();
  for (;;) {
    const v = await q.get(id);
    if (states.includes(v.state) && extra(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} is ${v.state} after ${timeoutMs / 1000} s (waiting for ${states.join('/')}): ${v.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('reorder, pause, resume, cancel and retry on farm jobs', { skip: skip ?? false, timeout: 300_000 }, async () => {
  const conn = { url: redis!.url };
  const q = await FarmQueue.open(conn, { queueName: 'controls' });
  let worker: FarmWorker | null = null;
  try {
    // No worker yet: everything waits.
    const a = await q.submit(shared, exportParams('a'), 'a');
    const b = await q.submit(shared, exportParams('b'), 'b');
    const c = await q.submit(shared, exportParams('c'), 'c');
    const d = await q.submit(shared, exportParams('d', { seconds: 3 }), 'd');
    assert.deepEqual((await q.list()).map((j) => j.title), ['a', 'b', 'c', 'd']);
    // c to the front; then the list (and the workers) take it first.
    assert.deepEqual((await q.reorder(c.id, 0)).map((j) => j.title), ['c', 'a', 'b', 'd']);
    assert.equal((await q.pause(a.id)).state, 'paused');
    assert.equal((await q.cancel(b.id)).state, 'cancelled');
    await assert.rejects(q.reorder(b.id, 0), /is cancelled; only queued or paused farm jobs can be moved/);

    worker = await FarmWorker.start({ connection: conn, shared, queueName: 'controls', name: 'controls', lockDurationMs: 5000, stalledIntervalMs: 2000, controlPollMs: 200 });
    const cDone = await waitFor(q, c.id, ['done']);
    // b was cancelled while waiting: the worker closes it without running it, and it is not retried.
    const bView = await waitFor(q, b.id, ['cancelled'], 60_000, (v) => v.finishedAt !== null);
    assert.equal(bView.error, 'The job was cancelled.');
    assert.equal(bView.result, null);
    // d runs next (a is paused); pause it while it runs: it stops at a checkpoint and parks.
    await waitFor(q, d.id, ['running'], 60_000, (v) => (v.progress?.done ?? 0) > 0);
    await q.pause(d.id);
    const dPaused = await waitFor(q, d.id, ['paused']);
    assert.equal(dPaused.state, 'paused');
    // Resume both; Retry the cancelled one.
    await q.resume(a.id);
    await q.resume(d.id);
    assert.equal((await q.retry(b.id)).state, 'queued');
    const [aDone, bDone, dDone] = [await waitFor(q, a.id, ['done']), await waitFor(q, b.id, ['done']), await waitFor(q, d.id, ['done'])];
    assert.ok(cDone.startedAt! < aDone.startedAt!, 'c (moved to the front) started before a');
    assert.equal(bDone.result!.frames, cDone.result!.frames);
    assert.ok(dDone.attempts >= 2, 'd was started again after its pause');
    for (const v of [aDone, bDone, cDone, dDone]) assert.equal(v.worker, 'controls');
  } finally {
    await worker?.close();
    await q.close();
  }
});

test('a job that fails three times is parked as failed with its reason', { skip: skip ?? false, timeout: 180_000 }, async (t) => {
  const conn = { url: redis!.url };
  const q = await FarmQueue.open(conn, { queueName: 'failing', backoffMs: 100 });
  const worker = await FarmWorker.start({ connection: conn, shared, queueName: 'failing', name: 'failing' });
  try {
    const j = await q.submit(shared, exportParams('broken', { portrait: 'broken.png' }), 'broken portrait');
    const v = await waitFor(q, j.id, ['failed']);
    assert.equal(v.failures, 3);
    assert.equal(v.attempts, 3);
    assert.match(v.error ?? '', /broken\.png/);
    t.diagnostic(`failed after ${v.failures} attempts: ${v.error}`);
    // Parked: it stays failed (no fourth attempt).
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await q.get(j.id)).state, 'failed');
  } finally {
    await worker.close();
    await q.close();
  }
});

test('a job whose video was finished by a worker that died before reporting it is completed from the video, not rendered again', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const conn = { url: redis!.url };
  // First run: renders the video (and its sidecar, which names the job).
  const first = await FarmQueue.open(conn, { queueName: 'first-run' });
  const w1 = await FarmWorker.start({ connection: conn, shared, queueName: 'first-run', name: 'first' });
  let done: FarmJobView;
  try {
    const j = await first.submit(shared, exportParams('once'), 'once');
    done = await waitFor(first, j.id, ['done']);
  } finally {
    await w1.close();
    await first.close();
  }
  // The same job taken again (as after a worker died between writing the video and telling Redis).
  const again = await FarmQueue.open(conn, { queueName: 'taken-again' });
  const w2 = await FarmWorker.start({ connection: conn, shared, queueName: 'taken-again', name: 'second' });
  try {
    await again.submit(shared, exportParams('once'), 'once', { jobId: done.id });
    const v = await waitFor(again, done.id, ['done']);
    assert.equal(v.result!.frameDigest, done.result!.frameDigest);
    assert.equal(v.result!.payload, done.result!.payload);
    assert.equal(w2.enginePid, null, 'nothing was rendered the second time');
  } finally {
    await w2.close();
    await again.close();
  }
});

test('a worker stopped mid-job (Ctrl-C, SIGTERM) puts the job back at once, and the next worker resumes it from its checkpoint', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const conn = { url: redis!.url };
  const q = await FarmQueue.open(conn, { queueName: 'shutdown' });
  try {
    const first = await FarmWorker.start({ connection: conn, shared, queueName: 'shutdown', name: 'stopping' });
    const j = await q.submit(shared, exportParams('stopped', { seconds: 3 }), 'stopped mid-job');
    const chunk0 = path.join(farmWorkDir(shared, engineJobId(j.id)), 'chunks', 'chunk-0.safetensors');
    for (const t0 = Date.now(); !existsSync(chunk0); ) {
      if (Date.now() - t0 > 120_000) throw new Error('no chunk checkpoint within 120 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.close();
    const back = await q.get(j.id);
    assert.equal(back.state, 'queued', 'back in the queue without waiting for its lock to expire');
    assert.equal(back.failures, 0, 'a stop is not a failed attempt');
    const second = await FarmWorker.start({ connection: conn, shared, queueName: 'shutdown', name: 'resuming' });
    try {
      const v = await waitFor(q, j.id, ['done']);
      assert.equal(v.worker, 'resuming');
      assert.ok(v.result!.resumedChunks >= 1, `${v.result!.resumedChunks} chunk(s) resumed`);
    } finally {
      await second.close();
    }
  } finally {
    await q.close();
  }
});
