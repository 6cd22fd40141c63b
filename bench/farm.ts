// `npm run bench -- farm [--workers N] [--jobs M] [--json]`: render-farm throughput on this machine,
// with a real redis-server on loopback (started and stopped here) and real workers (each with its own
// engine process), the built-in model, 1.5 s of speech and 2 sampler steps. In one run:
//   - M exports with 1 worker, with 2, and with N workers (default 2): jobs per minute and the
//     speed-up (workers share this machine's CPUs/GPU, so the speed-up says how well the farm keeps
//     them busy here, not what N machines would do);
//   - the scheduling overhead per job, from the 1-worker run: the hand-off (a job's start after the
//     previous one finished, BullMQ's own timestamps; near 0 because a worker fetches its next job in
//     the same Redis call that completes the last) plus the time the worker spends outside the
//     pipeline (engine call, checks, progress and completion in Redis).
// Each worker finishes one warm-up export before the clock starts (engine forked, model cached).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FarmJobView } from '../engine/farm/job-view.js';
import { FarmQueue } from '../engine/farm/queue.js';
import { TestRedis, redisSkipReason } from '../engine/farm/testing/redis-server.js';
import { FarmWorker } from '../engine/farm/worker.js';
import type { GenerateJobParams } from '../engine/jobs/studio-jobs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function intArg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got ${String(args[i + 1])}`);
  return n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

interface RoundResult {
  workers: number;
  jobs: number;
  wallS: number;
  jobsPerMin: number;
  pipelineSPerJob: number;
  /** Median gap between a job's end and the next job's start on the same worker, ms. */
  handoffMs: number;
  /** Median (worker time − pipeline time) per job, ms. */
  workerOverheadMs: number;
}

async function round(redisUrl: string, shared: string, workers: number, jobs: number, tag: string): Promise<RoundResult> {
  const conn = { url: redisUrl };
  const queueName = `bench-${tag}`;
  const q = await FarmQueue.open(conn, { queueName });
  const ws: FarmWorker[] = [];
  try {
    for (let w = 0; w < workers; w++) ws.push(await FarmWorker.start({ connection: conn, shared, queueName, name: `${tag}-w${w + 1}` }));
    const params = (name: string, seed: number): GenerateJobParams => ({
      mode: 'export',
      portrait: { path: path.join(shared, 'avatar.png'), crop: null },
      audio: { path: path.join(shared, 'speech.wav'), trim: { start: 0, end: 1.5 } },
      settings: { model: 'refree-mini', steps: 2, seed, guidance: 4.5, width: 256, height: 256, fps: 15, sampler: 'unipc' },
      seconds: null,
      output: path.join(shared, 'out', `${tag}-${name}.mp4`),
      watermark: { visible: true, text: 'AI-generated · ReFree', position: 'bottom-right' },
      modelPath: null,
    });
    const settle = async (ids: string[]): Promise<FarmJobView[]> => {
      for (;;) {
        const views = await Promise.all(ids.map((id) => q.get(id)));
        const bad = views.find((v) => v.state === 'failed' || v.state === 'cancelled');
        if (bad) throw new Error(`benchmark job ${bad.title} ${bad.state}: ${bad.error}`);
        if (views.every((v) => v.state === 'done')) return views;
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const warm: string[] = [];
    for (let w = 0; w < workers; w++) warm.push((await q.submit(shared, params(`warm-${w}`, 1000 + w), `warm-up ${w}`)).id);
    await settle(warm);
    const t0 = performance.now();
    const ids: string[] = [];
    for (let j = 0; j < jobs; j++) ids.push((await q.submit(shared, params(`job-${j}`, j), `job ${j}`)).id);
    const done = await settle(ids);
    const wallS = (performance.now() - t0) / 1000;
    const gaps: number[] = [];
    for (const w of new Set(done.map((d) => d.worker))) {
      const mine = done.filter((d) => d.worker === w).sort((a, b) => a.startedAt!.localeCompare(b.startedAt!));
      for (let k = 1; k < mine.length; k++) gaps.push(Date.parse(mine[k]!.startedAt!) - Date.parse(mine[k - 1]!.finishedAt!));
    }
    const inWorker = done.map((d) => Date.parse(d.finishedAt!) - Date.parse(d.startedAt!) - d.result!.seconds * 1000);
    const pipeline = done.reduce((s, d) => s + d.result!.seconds, 0) / done.length;
    return { workers, jobs, wallS: +wallS.toFixed(2), jobsPerMin: +((60 * jobs) / wallS).toFixed(2), pipelineSPerJob: +pipeline.toFixed(3), handoffMs: +median(gaps).toFixed(1), workerOverheadMs: +median(inWorker).toFixed(1) };
  } finally {
    for (const w of ws) await w.close();
    await q.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const asJson = args.includes('--json');
  const maxWorkers = intArg(args, 'workers', 2);
  const jobs = intArg(args, 'jobs', 6);
  const skip = redisSkipReason();
  if (skip) {
    if (asJson) process.stdout.write(`${JSON.stringify({ bench: 'farm', skipped: skip })}\n`);
    else process.stdout.write(`farm: skipped: ${skip}\n`);
    return;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-bench-farm-'));
  const shared = path.join(tmp, 'shared');
  mkdirSync(path.join(shared, 'out'), { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'avatar.png'), path.join(shared, 'avatar.png'));
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'speech.wav'), path.join(shared, 'speech.wav'));
  const redis = await TestRedis.start();
  try {
    // 1 and 2 workers always (when N ≥ 2), and N.
    const counts = [...new Set([1, 2, maxWorkers])].filter((n) => n <= maxWorkers).sort((a, b) => a - b);
    const rounds: RoundResult[] = [];
    for (const n of counts) {
      rounds.push(await round(redis.url, shared, n, jobs, `${n}w`));
      if (!asJson) process.stderr.write(`  ${n} worker(s) done\n`);
    }
    const one = rounds[0]!;
    const many = rounds[rounds.length - 1]!;
    const summary = {
      bench: 'farm',
      setup: 'built-in model, 1.5 s speech, 2 steps, redis-server on loopback',
      cpus: os.cpus().length,
      jobs,
      rounds,
      speedup: +(many.jobsPerMin / one.jobsPerMin).toFixed(3),
      schedulingOverheadMsPerJob: +(one.handoffMs + one.workerOverheadMs).toFixed(1),
      overheadShareOfJob: +((one.handoffMs + one.workerOverheadMs) / 1000 / (one.wallS / one.jobs)).toFixed(4),
    };
    if (asJson) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    process.stdout.write(
      [
        `farm (${summary.setup}; ${jobs} jobs per round; ${summary.cpus} CPUs shared by all workers)`,
        ...rounds.map((r) => `  ${String(r.workers).padStart(2)} worker(s): ${r.jobs} jobs in ${r.wallS.toFixed(1)} s = ${r.jobsPerMin.toFixed(1)} jobs/min (pipeline ${r.pipelineSPerJob.toFixed(2)} s per job)${r.workers > 1 ? `, ${(r.jobsPerMin / one.jobsPerMin).toFixed(2)}× one worker` : ''}`),
        `  scheduling overhead per job: ${summary.schedulingOverheadMsPerJob} ms (hand-off ${one.handoffMs} ms + worker outside the pipeline ${one.workerOverheadMs} ms; ${(summary.overheadShareOfJob * 100).toFixed(1)}% of a job)`,
      ].join('\n') + '\n',
    );
  } finally {
    await redis.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
