// `refree farm submit | list | pause | resume | cancel | retry | test` as a user runs them (child
// processes, --json), against a real redis-server with no worker: the job is queued with the studio's
// settings and shared-folder paths, listed, and controlled; bad settings are refused before Redis is
// asked. (Workers and rendering: engine/farm/farm-cluster.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FarmJobView } from '../farm/job-view.js';
import { TestRedis, redisSkipReason } from '../farm/testing/redis-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'refree.mjs');
const skip = redisSkipReason();
let tmp = '';
let shared = '';
let redis: TestRedis | null = null;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-cli-farm-'));
  shared = path.join(tmp, 'shared');
  mkdirSync(path.join(shared, 'out'), { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'avatar.png'), path.join(shared, 'avatar.png'));
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'speech.wav'), path.join(shared, 'speech.wav'));
  if (!skip) redis = await TestRedis.start();
});
after(async () => {
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function farm(...args: string[]): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'farm', ...args, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: JSON.parse(r.stdout || '{}') as Record<string, unknown>, stderr: r.stderr };
}

test('refree farm submit, list and the controls (--json)', { skip: skip ?? false, timeout: 180_000 }, () => {
  const conn = ['--redis', redis!.url];
  const sub = farm('submit', ...conn, '--shared', shared, '--portrait', path.join(shared, 'avatar.png'), '--audio', path.join(shared, 'speech.wav'), '--start', '0', '--end', '1.5', '--steps', '4', '--seed', '7', '--out', path.join(shared, 'out', 'x.mp4'), '--title', 'Take 1');
  assert.equal(sub.status, 0, sub.stderr);
  const job = sub.out.job as FarmJobView;
  assert.deepEqual([job.title, job.state, job.output, job.worker], ['Take 1', 'queued', 'out/x.mp4', null]);
  const listed = farm('list', ...conn);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual((listed.out.jobs as FarmJobView[]).map((j) => j.id), [job.id]);
  assert.equal((farm('pause', job.id, ...conn).out.job as FarmJobView).state, 'paused');
  assert.equal((farm('resume', job.id, ...conn).out.job as FarmJobView).state, 'queued');
  assert.equal((farm('cancel', job.id, ...conn).out.job as FarmJobView).state, 'cancelled');
  const wrong = farm('pause', job.id, ...conn);
  assert.equal(wrong.status, 1);
  assert.match(String(wrong.out.error), /^Farm job "Take 1" is cancelled, so it cannot be paused\.$/);
  assert.equal((farm('retry', job.id, ...conn).out.job as FarmJobView).state, 'queued');
  const t = farm('test', ...conn);
  assert.equal(t.status, 0);
  assert.match(String(t.out.version), /^\d+\.\d+/);
});

test('refree farm submit: settings outside the studio\'s limits, an existing output and an output another job writes are refused', { skip: skip ?? false, timeout: 120_000 }, () => {
  const base = ['submit', '--redis', redis!.url, '--shared', shared, '--portrait', path.join(shared, 'avatar.png'), '--audio', path.join(shared, 'speech.wav')];
  const steps = farm(...base, '--out', path.join(shared, 'out', 'y.mp4'), '--steps', '500');
  assert.equal(steps.status, 2);
  assert.match(String(steps.out.error), /^The settings are not valid: steps /);
  const trim = farm(...base, '--out', path.join(shared, 'out', 'y.mp4'), '--start', '2', '--end', '1');
  assert.equal(trim.status, 2);
  assert.match(String(trim.out.error), /trim end must come after its start/);
  writeFileSync(path.join(shared, 'out', 'exists.mp4'), 'an earlier video');
  const exists = farm(...base, '--out', path.join(shared, 'out', 'exists.mp4'));
  assert.equal(exists.status, 2);
  assert.match(String(exists.out.error), /exists\.mp4 already exists; choose another file name/);
  assert.equal(farm(...base, '--out', path.join(shared, 'out', 'twice.mp4')).status, 0);
  const twice = farm(...base, '--out', path.join(shared, 'out', 'twice.mp4'));
  assert.equal(twice.status, 1);
  assert.match(String(twice.out.error), /^Another farm job \("Export → twice\.mp4"\) already writes out\/twice\.mp4 in the shared folder; choose another file name\.$/);
});
