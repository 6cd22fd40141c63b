// Engine deaths mid-job, with an in-process runner that resumes like the pipeline (a resumed run
// reports only the work left): progress counts the whole job and never goes backwards; the recovery
// budget counts deaths in a row without progress; a dead attempt's partial output and temp files go.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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
  const d = await mkdtemp(path.join(tmpdir(), 'refree-recovery-'));
  dirs.push(d);
  return d;
}
const died = (): Error => Object.assign(new Error('the engine process was killed by signal SIGKILL'), { name: 'EngineDiedError' });

/** 10 units of work, checkpointed per unit; dies after `dieAfter[attempt]` units of that attempt (-1: no death). */
class FlakyRunner implements JobRunner {
  attempt = 0;
  constructor(
    private readonly dieAfter: number[],
    private readonly out: string,
  ) {}
  async run(_job: Readonly<JobRecord>, ctx: JobRunContext): Promise<JobRunResult> {
    const plan = this.dieAfter[this.attempt++] ?? -1;
    const cp = path.join(ctx.workDir, 'done.txt');
    let done = existsSync(cp) ? Number((await import('node:fs')).readFileSync(cp, 'utf8')) : 0;
    const left = 10 - done;
    for (let i = 0; i < left; i++) {
      if (i === plan) {
        // What a killed engine leaves: a half-written output and a temp file in the work folder.
        await writeFile(this.out.replace(/\.mp4$/, '.partial.mp4'), 'half a video');
        await writeFile(path.join(ctx.workDir, '.preview-1.png.123.tmp'), 'x');
        throw died();
      }
      await new Promise((r) => setTimeout(r, 5));
      done++;
      await writeFile(cp, String(done));
      ctx.progress({ done: i + 1, total: left });
    }
    await writeFile(this.out, 'video');
    return { output: this.out };
  }
}

async function runToEnd(dieAfter: number[]): Promise<{ job: JobRecord; dones: number[]; totals: number[]; dir: string; out: string }> {
  const dir = await tempDir();
  const out = path.join(dir, 'talk.mp4');
  const runner = new FlakyRunner(dieAfter, out);
  const q = await JobQueue.open({ dir: path.join(dir, 'queue'), runner, maxRecoveries: 3, progressWriteMs: 0 });
  const dones: number[] = [];
  const totals: number[] = [];
  const finished = new Promise<JobRecord>((resolve) =>
    q.on((e) => {
      if (e.type !== 'updated') return;
      if (e.job.progress && e.job.progress.total > 0) {
        dones.push(e.job.progress.done);
        totals.push(e.job.progress.total);
      }
      if (e.job.state === 'done' || e.job.state === 'failed') resolve(e.job);
    }),
  );
  await q.add({ kind: 'export', title: 'flaky', params: { output: out } });
  const job = await finished;
  await q.close();
  return { job, dones, totals, dir, out };
}

test('five deaths, each after some progress, do not use up the budget: the job finishes, counting the whole job', async () => {
  const r = await runToEnd([2, 2, 1, 1, 1, -1]);
  assert.equal(r.job.state, 'done', JSON.stringify(r.job.error));
  assert.equal(r.job.recoveries, 5);
  for (let i = 1; i < r.dones.length; i++) assert.ok(r.dones[i]! >= r.dones[i - 1]!, `progress went backwards: ${r.dones.join(',')}`);
  assert.ok(r.totals.every((t) => t === 10), `every total is the whole job: ${r.totals.join(',')}`);
  assert.equal(r.job.progress?.done, 10);
  assert.equal(existsSync(r.out.replace(/\.mp4$/, '.partial.mp4')), false, 'the partial output is gone');
  const work = await readdir(path.join(r.dir, 'queue', 'work', r.job.id)).catch(() => [] as string[]);
  assert.deepEqual(work.filter((f) => f.endsWith('.tmp')), []);
});

test('deaths in a row without progress use the budget: the fourth fails the job with a sentence', async () => {
  const r = await runToEnd([3, 0, 0, 0, 0, -1]);
  assert.equal(r.job.state, 'failed');
  assert.match(r.job.error!.message, /^The engine process died 4 times in a row without making progress on this job; the last time: .*SIGKILL/);
  assert.equal(r.job.recoveries, 4, 'one recovery after progress, then three without');
  assert.equal(existsSync(r.out.replace(/\.mp4$/, '.partial.mp4')), false);
});

test('a failed job keeps its work folder only when it holds checkpoints, and its history says which', async () => {
  const dir = await tempDir();
  const runner: JobRunner = {
    async run(job, ctx) {
      const params = job.params as { checkpoint: boolean };
      if (params.checkpoint) await writeFile(path.join(ctx.workDir, 'chunk-0.bin'), 'latents');
      await writeFile(path.join(ctx.workDir, '.x.123.tmp'), 'half');
      throw new Error('the portrait could not be read');
    },
  };
  const q = await JobQueue.open({ dir: path.join(dir, 'queue'), runner, progressWriteMs: 0 });
  const failed = (id: string) =>
    new Promise<JobRecord>((resolve) =>
      q.on((e) => {
        if (e.type === 'updated' && e.job.id === id && e.job.state === 'failed') resolve(e.job);
      }),
    );
  const a = await q.add({ kind: 'export', title: 'with checkpoints', params: { checkpoint: true } });
  const ja = await failed(a.id);
  const b = await q.add({ kind: 'export', title: 'without', params: { checkpoint: false } });
  const jb = await failed(b.id);
  await q.close();
  assert.ok(existsSync(path.join(q.workDir(a.id), 'chunk-0.bin')));
  assert.match(ja.history.at(-1)!.message, /checkpoints are kept in .*; Retry continues from them/);
  assert.equal(existsSync(q.workDir(b.id)), false);
  assert.match(jb.history.at(-1)!.message, /nothing was checkpointed, so its work folder was removed/);
});
