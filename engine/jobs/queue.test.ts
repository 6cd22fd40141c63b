// Queue rules with an in-process runner that does real (timed) work and honours its abort signal:
// order, reorder, cancel, pause/resume, failure and retry, and reopening the folder.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { JobRecord } from './job-types.js';
import { JobQueue } from './queue.js';
import type { JobRunContext, JobRunner, JobRunResult } from './runner.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'refree-queue-'));
  dirs.push(d);
  return d;
}

/** Steps of `ms` each, checking the signal between steps like an engine job; records the run order. */
class StepRunner implements JobRunner {
  readonly ran: string[] = [];
  failOnce = new Set<string>();
  constructor(
    private readonly steps = 3,
    private readonly ms = 20,
  ) {}
  async run(job: Readonly<JobRecord>, ctx: JobRunContext): Promise<JobRunResult> {
    this.ran.push(job.title);
    for (let i = 0; i < this.steps; i++) {
      if (ctx.signal.aborted) throw Object.assign(new Error(`${job.title} was cancelled`), { name: 'CancelledError' });
      if (this.failOnce.delete(job.title)) throw new Error(`the portrait of ${job.title} could not be read`);
      await new Promise((r) => setTimeout(r, this.ms));
      ctx.progress({ done: i + 1, total: this.steps });
    }
    const output = path.join(ctx.workDir, 'out.txt');
    await writeFile(output, job.title);
    return { output, result: { title: job.title } };
  }
}

test('jobs run one at a time in queue order; reorder changes the order and survives a new queue object', async () => {
  const dir = await tempDir();
  const runner = new StepRunner();
  const q = await JobQueue.open({ dir, runner, autoStart: false });
  const a = await q.add({ kind: 'export', title: 'a', params: {} });
  const b = await q.add({ kind: 'export', title: 'b', params: {} });
  const c = await q.add({ kind: 'export', title: 'c', params: {} });
  await q.reorder(c.id, 0);
  await q.reorder(a.id, 5); // clamped to the end
  assert.deepEqual(q.list().map((j) => j.title), ['c', 'b', 'a']);
  await q.abandon();

  // A new queue object over the same folder: same jobs, same order.
  const runner2 = new StepRunner();
  const q2 = await JobQueue.open({ dir, runner: runner2, autoStart: false });
  assert.deepEqual(q2.list().map((j) => j.title), ['c', 'b', 'a']);
  assert.equal(q2.problems.length, 0);
  let concurrent = 0;
  let maxConcurrent = 0;
  q2.on((e) => {
    if (e.type !== 'updated') return;
    concurrent = q2.list().filter((j) => j.state === 'running').length;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
  });
  q2.start();
  for (const j of [a, b, c]) assert.equal((await q2.settled(j.id)).state, 'done');
  assert.deepEqual(runner2.ran, ['c', 'b', 'a']);
  assert.equal(maxConcurrent, 1);
  const done = q2.get(b.id);
  assert.equal(await readFile(done.output!, 'utf8'), 'b');
  assert.equal(done.progress?.done, 3);
  await q2.close();
});

test('cancel a queued job and a running one; a cancelled job never runs and can be retried', async () => {
  const dir = await tempDir();
  const runner = new StepRunner(50, 20);
  const q = await JobQueue.open({ dir, runner });
  const a = await q.add({ kind: 'export', title: 'a', params: {} });
  const b = await q.add({ kind: 'export', title: 'b', params: {} });
  await q.cancel(b.id);
  // Wait until a runs, then cancel it mid-way.
  await new Promise<void>((resolve) => {
    const off = q.on(() => {
      if ((q.get(a.id).progress?.done ?? 0) >= 2) {
        off();
        resolve();
      }
    });
  });
  const ca = await q.cancel(a.id);
  assert.equal(ca.state, 'cancelled');
  assert.match(ca.error!.message, /cancelled/);
  assert.ok(ca.progress!.done < 50, 'the running job stopped before its end');
  assert.deepEqual(runner.ran, ['a']);
  assert.equal(q.get(b.id).state, 'cancelled');
  // On disk too.
  const onDisk = JSON.parse(await readFile(path.join(dir, 'jobs', `${b.id}.json`), 'utf8')) as JobRecord;
  assert.equal(onDisk.state, 'cancelled');
  await assert.rejects(q.resume(b.id), (e: Error & { code?: string }) => e.code === 'conflict' && /cannot be resumed/.test(e.message));
  await q.retry(b.id);
  assert.equal((await q.settled(b.id)).state, 'done');
  await q.close();
});

test('pause a running job, then resume it', async () => {
  const dir = await tempDir();
  const runner = new StepRunner(30, 15);
  const q = await JobQueue.open({ dir, runner });
  const a = await q.add({ kind: 'preview', title: 'a', params: {} });
  await new Promise<void>((resolve) => {
    const off = q.on(() => {
      if ((q.get(a.id).progress?.done ?? 0) >= 1) {
        off();
        resolve();
      }
    });
  });
  assert.equal((await q.pause(a.id)).state, 'paused');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(q.get(a.id).state, 'paused', 'a paused job is not picked up again');
  await q.resume(a.id);
  const done = await q.settled(a.id);
  assert.equal(done.state, 'done');
  assert.equal(done.attempts, 2);
  await q.close();
});

test('a failing job is failed with its message; retry runs it again', async () => {
  const dir = await tempDir();
  const runner = new StepRunner(2, 5);
  runner.failOnce.add('x');
  const q = await JobQueue.open({ dir, runner });
  const x = await q.add({ kind: 'export', title: 'x', params: {} });
  const failed = await q.settled(x.id);
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error?.message, 'the portrait of x could not be read');
  await assert.rejects(q.reorder('no-such-job', 0), /no job with id no-such-job/);
  await q.retry(x.id);
  assert.equal((await q.settled(x.id)).state, 'done');
  await q.remove(x.id);
  assert.deepEqual(q.list(), []);
  assert.deepEqual(await readdir(path.join(dir, 'jobs')), []);
  await q.close();
});

test('a job left "running" on disk is queued again on open; unreadable files are reported, not fatal', async () => {
  const dir = await tempDir();
  const q = await JobQueue.open({ dir, runner: new StepRunner(), autoStart: false });
  const j = await q.add({ kind: 'export', title: 'r', params: { n: 1 } });
  await q.abandon();
  const file = path.join(dir, 'jobs', `${j.id}.json`);
  const rec = JSON.parse(await readFile(file, 'utf8')) as JobRecord;
  await writeFile(file, JSON.stringify({ ...rec, state: 'running' }));
  await writeFile(path.join(dir, 'jobs', 'broken.json'), '{"id": "broken", ');
  await writeFile(path.join(dir, 'jobs', `.${j.id}.json.123.abcd.tmp`), 'half a file');

  const q2 = await JobQueue.open({ dir, runner: new StepRunner(), autoStart: false });
  const back = q2.get(j.id);
  assert.equal(back.state, 'queued');
  assert.match(back.history.at(-1)!.message, /resume from its last checkpoint/);
  assert.equal(q2.problems.length, 1);
  assert.match(q2.problems[0]!, /^broken\.json: /);
  assert.ok(!(await readdir(path.join(dir, 'jobs'))).some((n) => n.endsWith('.tmp')), 'stale temp files are removed');
  await q2.close();
});
