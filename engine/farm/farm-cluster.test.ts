// The render farm end to end, on loopback: a real redis-server (append-only persistence), three
// `refree farm worker` processes, twelve exports with the built-in model and short speech. One worker
// is killed with SIGKILL while its job has a chunk checkpoint and is still running, and Redis is
// restarted once while jobs run. Then: all twelve outputs exist exactly once, each carries the
// watermark (the verify code finds the payload its job reported), the killed job was resumed by
// another worker from its checkpoint, and its frames equal those of an uninterrupted run of the
// same job (the pipeline's frame digest over every written frame, and the decoded video's frames).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import { readFrames } from '../media/video-reader.js';
import { verifyVideo } from '../watermark/verify.js';
import type { FarmJobView } from './job-view.js';
import { FarmQueue } from './queue.js';
import { farmWorkDir } from './shared-folder.js';
import { TestRedis, redisSkipReason } from './testing/redis-server.js';
import { FarmWorker, engineJobId } from './worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'refree.mjs');
const JOBS = 12;
const skip = redisSkipReason();

let tmp = '';
let shared = '';
let redis: TestRedis | null = null;
const workers = new Map<string, ChildProcess>();
const logs = new Map<string, string>();

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-farm-cluster-'));
  shared = path.join(tmp, 'shared');
  mkdirSync(path.join(shared, 'out'), { recursive: true });
  mkdirSync(path.join(shared, 'reference'), { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'avatar.png'), path.join(shared, 'avatar.png'));
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'speech.wav'), path.join(shared, 'speech.wav'));
  redis = await TestRedis.start();
});

after(async () => {
  for (const w of workers.values()) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function startWorker(name: string): ChildProcess {
  // A dead worker's job is free again after 4 s (instead of 30) so the test stays short.
  const child = spawn(process.execPath, [BIN, 'farm', 'worker', '--redis', redis!.url, '--shared', shared, '--name', name, '--lock-seconds', '4', '--json'], {
    cwd: ROOT,
    env: { ...process.env, REFREE_CACHE_DIR: path.join(tmp, `cache-${name}`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logs.set(name, '');
  child.stderr!.on('data', (d: Buffer) => logs.set(name, logs.get(name)! + d.toString()));
  workers.set(name, child);
  return child;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; worker logs:\n${[...logs].map(([n, l]) => `--- ${n}\n${l.slice(-3000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exportParams(i: number, dir = 'out'): GenerateJobParams {
  return {
    mode: 'export',
    portrait: { path: path.join(shared, 'avatar.png'), crop: null },
    // 1.5 s of speech: two chunks with the built-in model, so a job can die between them.
    audio: { path: path.join(shared, 'speech.wav'), trim: { start: 0, end: 1.5 } },
    settings: { model: 'refree-mini', steps: 2, seed: i, guidance: 4.5, width: 256, height: 256, fps: 15, sampler: 'unipc' },
    seconds: null,
    output: path.join(shared, dir, `job-${i}.mp4`),
    watermark: { visible: true, text: 'AI-generated · ReFree', position: 'bottom-right' },
    modelPath: null,
  };
}

async function frameHashes(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of readFrames(file, { pixelFormat: 'rgb24' })) out.push(createHash('sha256').update(f.data).digest('hex'));
  return out;
}

test('12 exports on 3 workers: one worker SIGKILLed mid-job, Redis restarted; every output once, watermarked, the killed job identical to an uninterrupted run', { skip: skip ?? false, timeout: 600_000 }, async (t) => {
  const t0 = performance.now();
  const conn = { url: redis!.url };
  const names = ['w1', 'w2', 'w3'];
  for (const n of names) startWorker(n);
  await until('three workers ready', 60_000, async () => names.every((n) => logs.get(n)!.includes('"type":"ready"')));

  const q = await FarmQueue.open(conn);
  try {
    const submitted: FarmJobView[] = [];
    for (let i = 1; i <= JOBS; i++) submitted.push(await q.submit(shared, exportParams(i), `job ${i}`));
    assert.equal(new Set(submitted.map((s) => s.id)).size, JOBS);

    // The victim: the first job seen running with its first chunk checkpointed (on the shared folder).
    const victim = await until('a running job with a chunk checkpoint', 180_000, async () => {
      for (const j of await q.list()) {
        if (j.state !== 'running' || !j.worker) continue;
        if (existsSync(path.join(farmWorkDir(shared, engineJobId(j.id)), 'chunks', 'chunk-0.safetensors'))) return j;
      }
      return null;
    });
    const killedWorker = victim.worker!;
    workers.get(killedWorker)!.kill('SIGKILL');
    const at = await q.get(victim.id);
    assert.notEqual(at.state, 'done', 'the job was still unfinished when its worker was killed');

    // Redis restarted once while the others work (append-only file: nothing is lost).
    await until('another job running', 60_000, async () => (await q.list()).some((j) => j.state === 'running' && j.id !== victim.id));
    await redis!.restart();

    const finished = await until('all 12 jobs done', 480_000, async () => {
      const all = await q.list().catch(() => null);
      if (!all) return null;
      const failed = all.find((j) => j.state === 'failed' || j.state === 'cancelled');
      if (failed) throw new Error(`job ${failed.id} ${failed.state}: ${failed.error}`);
      return all.length === JOBS && all.every((j) => j.state === 'done') ? all : null;
    });

    // Every output exactly once: one video and one sidecar per job, nothing half-written left.
    const files = readdirSync(path.join(shared, 'out')).sort();
    const expected = Array.from({ length: JOBS }, (_, k) => [`job-${k + 1}.mp4`, `job-${k + 1}.mp4.json`]).flat().sort();
    assert.deepEqual(files, expected);
    assert.deepEqual(readdirSync(path.join(shared, '.refree-farm', 'work')), [], 'every checkpoint folder removed after its job finished');
    const payloads = new Set<string>();
    for (const j of finished) {
      assert.ok(j.result, `job ${j.id} has a result`);
      const ver = await verifyVideo(path.join(shared, j.result.output));
      assert.equal(ver.watermark.found, true, `${j.result.output}: watermark found`);
      assert.equal(ver.watermark.payload, j.result.payload, `${j.result.output}: the payload its job reported`);
      payloads.add(j.result.payload);
    }
    assert.equal(payloads.size, JOBS, 'each job has its own payload');
    // The work was shared (each surviving worker finished some).
    const by = new Set(finished.map((j) => j.worker));
    assert.ok(by.size >= 2, `jobs finished on ${[...by].join(', ')}`);

    // The killed job: taken back as stalled, resumed from its checkpoint by another worker.
    const killed = finished.find((j) => j.id === victim.id)!;
    assert.notEqual(killed.worker, killedWorker, 'another worker finished it');
    assert.ok(killed.result!.resumedChunks >= 1, `resumed ${killed.result!.resumedChunks} chunk(s) from the checkpoint`);
    assert.ok(killed.stalls >= 1 || killed.attempts >= 2, `stalls ${killed.stalls}, attempts ${killed.attempts}`);

    // The same job, uninterrupted: same farm job id (so the same watermark payload), its own queue.
    const n = Number(/^job (\d+)$/.exec(killed.title)![1]);
    const refQueue = await FarmQueue.open(conn, { queueName: 'reference' });
    const refWorker = await FarmWorker.start({ connection: conn, shared, queueName: 'reference', name: 'reference' });
    try {
      await refQueue.submit(shared, exportParams(n, 'reference'), killed.title, { jobId: killed.id });
      const ref = await until('the reference run', 180_000, async () => {
        const v = await refQueue.get(killed.id);
        if (v.state === 'failed') throw new Error(`reference run failed: ${v.error}`);
        return v.state === 'done' ? v : null;
      });
      assert.equal(ref.result!.resumedChunks, 0);
      assert.equal(ref.result!.payload, killed.result!.payload);
      assert.equal(ref.result!.frames, killed.result!.frames);
      assert.equal(ref.result!.frameDigest, killed.result!.frameDigest, 'the frames written are identical');
      const [a, b] = [await frameHashes(path.join(shared, killed.result!.output)), await frameHashes(path.join(shared, ref.result!.output))];
      assert.equal(a.length, killed.result!.frames);
      assert.deepEqual(a, b, 'the decoded videos are identical frame by frame');
      t.diagnostic(`${JOBS} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s; per worker: ${[...by].map((w) => `${w} ${finished.filter((j) => j.worker === w).length}`).join(', ')}; killed ${killedWorker} during job ${victim.id}, finished by ${killed.worker} (stalls ${killed.stalls}, attempts ${killed.attempts}, ${killed.result!.resumedChunks} of ${killed.result!.chunks} chunks resumed); frame digest ${killed.result!.frameDigest.slice(0, 16)} = reference`);
    } finally {
      await refWorker.close();
      await refQueue.close();
    }
  } finally {
    await q.close();
  }
});
