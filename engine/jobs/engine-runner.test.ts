// The queue with the real engine process (child_process, as in the CLI and the web host) running a
// small real job that checkpoints each chunk (testing/chunk-job.ts): a SIGKILL of the engine mid-job
// and a restart of the queue mid-job both end with the job finished, resumed from its checkpoint.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { EngineJobRunner } from './engine-runner.js';
import { JobQueue } from './queue.js';
import type { JobRecord } from './job-types.js';

const CHUNK_JOB = fileURLToPath(new URL('./testing/chunk-job.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function runner(states?: string[]): EngineJobRunner {
  return new EngineJobRunner({ engineJob: () => 'test.chunks', jobModules: [CHUNK_JOB], onState: (s) => states?.push(s) });
}

function progressAtLeast(q: JobQueue, id: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const off = q.on(() => {
      if (q.get(id).state === 'running' && (q.get(id).progress?.done ?? 0) >= n) {
        off();
        resolve();
      }
    });
  });
}

test('SIGKILL of the engine process mid-job: the job is resumed from its checkpoint by a new engine and finishes', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'refree-engine-queue-'));
  dirs.push(dir);
  const states: string[] = [];
  const r = runner(states);
  const q = await JobQueue.open({ dir, runner: r, progressWriteMs: 0 });
  const job = await q.add({ kind: 'export', title: 'killed mid-way', params: { chunks: 12, msPerChunk: 150 } });
  await progressAtLeast(q, job.id, 3);
  const firstPid = r.pid;
  assert.ok(firstPid, 'the engine is running');
  process.kill(firstPid, 'SIGKILL');

  const done = await q.settled(job.id, 150_000);
  assert.equal(done.state, 'done', JSON.stringify(done.history));
  assert.equal(done.recoveries, 1);
  assert.equal(done.attempts, 2);
  assert.ok(done.history.some((h) => /engine stopped \(.*SIGKILL.*\); restarting it and resuming/.test(h.message)), 'the recovery is visible in the history');
  const result = done.result as { starts: number[]; pid: number };
  assert.equal(result.starts.length, 2);
  assert.equal(result.starts[0], 0);
  assert.ok(result.starts[1]! >= 3, `resumed at chunk ${result.starts[1]}, not from the start`);
  assert.notEqual(result.pid, firstPid, 'a new engine process finished the job');
  assert.deepEqual(JSON.parse(await readFile(done.output!, 'utf8')), { chunks: 12, starts: result.starts });
  assert.ok(states.includes('crashed'));
  await q.close();
});

test('restart of the queue (a new queue object and engine) mid-job: the interrupted job resumes and finishes', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'refree-engine-queue-'));
  dirs.push(dir);
  const q1 = await JobQueue.open({ dir, runner: runner(), progressWriteMs: 0 });
  const job = await q1.add({ kind: 'export', title: 'interrupted', params: { chunks: 10, msPerChunk: 150 } });
  const second = await q1.add({ kind: 'export', title: 'waiting', params: { chunks: 2, msPerChunk: 10 } });
  await progressAtLeast(q1, job.id, 2);
  await q1.abandon(); // as if the host died: the file still says "running"
  const onDisk = JSON.parse(await readFile(path.join(dir, 'jobs', `${job.id}.json`), 'utf8')) as JobRecord;
  assert.equal(onDisk.state, 'running');

  const q2 = await JobQueue.open({ dir, runner: runner(), progressWriteMs: 0 });
  const done = await q2.settled(job.id, 150_000);
  assert.equal(done.state, 'done');
  const starts = (done.result as { starts: number[] }).starts;
  assert.ok(starts.length === 2 && starts[1]! >= 2, `resumed from the checkpoint (starts ${JSON.stringify(starts)})`);
  assert.equal((await q2.settled(second.id, 60_000)).state, 'done');
  await q2.close();
});
