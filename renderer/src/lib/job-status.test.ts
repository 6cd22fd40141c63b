import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canReorder, queueSummary, statusLine } from './job-status.js';

const job = (state: 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled', message?: string) => ({
  state,
  kind: 'export',
  progress: { done: 5, total: 10, ...(message ? { message } : {}) },
  error: state === 'failed' ? { code: 'engine', message: 'The engine stopped.' } : null,
});

test('a finished job says Done, not its last stage; a cancelled one says Cancelled, not an error', () => {
  assert.equal(statusLine(job('done', 'finishing the video')), 'Done');
  assert.equal(statusLine(job('cancelled', 'step 3 of 8')), 'Cancelled');
  assert.equal(statusLine(job('failed')), 'The engine stopped.');
  assert.equal(statusLine(job('running', 'step 3 of 8')), 'step 3 of 8');
  assert.match(statusLine(job('paused', 'step 3 of 8'))!, /^Paused at: step 3 of 8$/);
});

test('the queue summary counts paused jobs, and says idle only when nothing is under way', () => {
  assert.equal(queueSummary([job('paused')]), '1 paused');
  assert.equal(queueSummary([job('running'), job('queued'), job('queued'), job('done')]), '1 running · 2 waiting');
  assert.equal(queueSummary([job('done'), job('failed')]), 'Queue idle');
  assert.equal(canReorder('done'), false);
  assert.equal(canReorder('paused'), true);
});
