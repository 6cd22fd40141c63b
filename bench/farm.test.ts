// `npm run bench -- farm --json` prints one JSON line with both rounds' throughput and the scheduling
// overhead per job (real redis-server and workers; skipped with the reason where redis-server is missing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { redisSkipReason } from '../engine/farm/testing/redis-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const skip = redisSkipReason();

test('bench farm --workers 2 --jobs 2 --json: throughput for 1 and 2 workers and the overhead per job, in one line', { skip: skip ?? false, timeout: 300_000 }, async () => {
  // As `npm run bench -- farm …` runs it.
  const p = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'main.ts'), 'farm', '--workers', '2', '--jobs', '2', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 280_000 });
  assert.equal(p.status, 0, p.stderr);
  const out = p.stdout.trim().split('\n');
  assert.equal(out.length, 1, out.join('\n'));
  const r = JSON.parse(out[0]!) as { rounds: { workers: number; jobs: number; jobsPerMin: number; pipelineSPerJob: number }[]; speedup: number; schedulingOverheadMsPerJob: number };
  assert.deepEqual(r.rounds.map((x) => x.workers), [1, 2]);
  for (const x of r.rounds) {
    assert.equal(x.jobs, 2);
    assert.ok(x.jobsPerMin > 0 && x.pipelineSPerJob > 0, JSON.stringify(x));
  }
  assert.ok(r.speedup > 0);
  assert.ok(Number.isFinite(r.schedulingOverheadMsPerJob) && r.schedulingOverheadMsPerJob >= 0, String(r.schedulingOverheadMsPerJob));
});
