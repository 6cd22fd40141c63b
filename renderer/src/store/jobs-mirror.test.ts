import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView } from '../../../engine/service/contract.js';
import { jobActions, removeJob, reorderJobs, sortJobs, upsertJob } from './jobs-mirror.js';

function job(id: string, order: number, patch: Partial<JobView> = {}): JobView {
  return {
    id, kind: 'export', title: id, state: 'queued', order, params: {}, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
    startedAt: null, finishedAt: null, progress: null, attempts: 0, recoveries: 0, output: null, result: null, error: null, preview: null,
    history: [], outputUrl: null, previewUrl: null, ...patch,
  };
}

test('upsert inserts in queue order and replaces newer records only', () => {
  let jobs = upsertJob([], job('b', 2));
  jobs = upsertJob(jobs, job('a', 1));
  assert.deepEqual(jobs.map((j) => j.id), ['a', 'b']);
  jobs = upsertJob(jobs, job('a', 1, { state: 'running', updatedAt: '2026-01-01T00:00:05Z' }));
  assert.equal(jobs[0]!.state, 'running');
  // A stale record (older updatedAt) arriving late must not undo the newer state.
  jobs = upsertJob(jobs, job('a', 1, { state: 'queued', updatedAt: '2026-01-01T00:00:01Z' }));
  assert.equal(jobs[0]!.state, 'running');
});

test('remove and reorder', () => {
  const jobs = sortJobs([job('a', 0), job('b', 1), job('c', 2)]);
  assert.deepEqual(removeJob(jobs, 'b').map((j) => j.id), ['a', 'c']);
  const moved = reorderJobs(jobs, ['c', 'a', 'b']);
  assert.deepEqual(moved.map((j) => j.id), ['c', 'a', 'b']);
  // A later update of another job re-sorts by `order`: the reorder must survive it.
  assert.deepEqual(upsertJob(moved, { ...moved[1]!, updatedAt: '2026-01-01T00:00:09Z' }).map((j) => j.id), ['c', 'a', 'b']);
});

test('jobActions follows the job state machine', () => {
  assert.deepEqual(jobActions({ state: 'running', output: null }), { pause: true, resume: false, cancel: true, retry: false, remove: false, open: false });
  assert.equal(jobActions({ state: 'failed', output: null }).retry, true);
  assert.equal(jobActions({ state: 'done', output: '/x.mp4' }).open, true);
  assert.equal(jobActions({ state: 'paused', output: null }).resume, true);
});
