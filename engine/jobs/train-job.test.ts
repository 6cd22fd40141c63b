// Training as a queue job in the real engine process: a pause saves a checkpoint and stops, a resume
// continues from it; a SIGKILL of the engine mid-run is recovered from the last checkpoint; progress
// (the run's own step count) never goes backwards; the metrics hold each step once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { tinyRandomPackage } from '../pipeline/testing/random-package.js';
import { writeClip } from '../synth/clip.js';
import { prepareDataset } from '../train/prepare/index.js';
import { listCheckpoints, readMetrics } from '../train/run-folder.js';
import { EngineJobRunner } from './engine-runner.js';
import { JobQueue } from './queue.js';
import type { TrainJobParams } from './train-job.js';

const STUDIO_JOBS = fileURLToPath(new URL('./studio-jobs.ts', import.meta.url));
let dir = '';
let pkg = '';
let dataset = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refree-train-job-'));
  process.env.REFREE_CACHE_DIR = path.join(dir, 'cache');
  pkg = await tinyRandomPackage();
  for (let i = 0; i < 3; i++) await writeClip(path.join(dir, 'clips'), `c${i}`, { seed: 40 + i, split: 'train', seconds: 1.3, size: 128 });
  dataset = path.join(dir, 'ds');
  await prepareDataset({ input: path.join(dir, 'clips'), model: pkg, out: dataset });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = (run: string): TrainJobParams => ({ stage: 'sft', dataset, model: pkg, run, settings: { steps: 30, batch: 1, frames: 5, checkpointEvery: 3, lora: { rank: 2, alpha: 2, targets: ['q', 'v'] } } });

function runner(): EngineJobRunner {
  return new EngineJobRunner({ engineJob: (kind) => (kind === 'training' ? 'studio.train' : 'studio.generate'), jobModules: [STUDIO_JOBS] });
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

test('a training job pauses at a checkpoint, resumes from it, survives a SIGKILL of the engine, and finishes', { timeout: 300_000 }, async () => {
  const run = path.join(dir, 'run');
  const r = runner();
  const q = await JobQueue.open({ dir: path.join(dir, 'queue'), runner: r, progressWriteMs: 0 });
  const job = await q.add({ kind: 'training', title: 'SFT on 3 clips', params: params(run) });
  const seen: number[] = [];
  q.on(() => {
    const p = q.get(job.id).progress;
    if (q.get(job.id).state === 'running' && p && p.total === 30) seen.push(p.done);
  });
  await progressAtLeast(q, job.id, 5);
  await q.pause(job.id);
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(q.get(job.id).state, 'paused');
  const saved = await listCheckpoints(run);
  assert.ok(saved.length > 0 && saved[saved.length - 1]!.step >= 5, `paused with a checkpoint (have ${JSON.stringify(saved.map((c) => c.step))})`);
  const pausedAt = saved[saved.length - 1]!.step;

  await q.resume(job.id);
  await progressAtLeast(q, job.id, pausedAt + 6);
  process.kill(r.pid!, 'SIGKILL');
  const done = await q.settled(job.id, 240_000);
  assert.equal(done.state, 'done', JSON.stringify(done.history));
  assert.ok(done.recoveries >= 1, 'the engine death was recovered');
  const result = done.result as { steps: number; adapter: string };
  assert.equal(result.steps, 30);
  assert.equal(done.output, result.adapter);
  // Each step once in the metrics, and the queue's progress never went backwards.
  assert.deepEqual(
    (await readMetrics(run)).map((m) => m.step),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `progress went back from ${seen[i - 1]} to ${seen[i]}`);
  await q.close();
});
