// What the studio says about a job, in one place: the state's word, the line under the progress bar
// (the engine's message only while the job is under way — a finished job says "Done", a cancelled one
// "Cancelled", never the last stage it passed), and the queue's summary line (a paused job is not
// "idle"). Pure functions, checked by job-status.test.ts.
import type { JobView } from '../../../engine/service/contract.js';

type JobState = JobView['state'];

export const STATE_LABEL: Record<JobState, string> = {
  queued: 'Waiting',
  running: 'Running',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export interface JobLike {
  state: JobState;
  kind: string;
  progress: { done: number; total: number; message?: string } | null;
  error: { code: string; message: string } | null;
}

export function isActive(state: JobState): boolean {
  return state === 'queued' || state === 'running' || state === 'paused';
}

/** The line under a job's bar. */
export function statusLine(job: JobLike): string | null {
  switch (job.state) {
    case 'done':
      return 'Done';
    case 'cancelled':
      return 'Cancelled';
    case 'failed':
      return job.error?.message ?? 'Failed';
    case 'paused':
      return job.progress?.message ? `Paused at: ${job.progress.message}` : 'Paused; resume it to continue from where it stopped';
    case 'queued':
      return job.progress?.done ? 'Waiting to continue' : 'Waiting for its turn';
    default:
      return job.progress?.message ?? 'Starting…';
  }
}

/** "1 running · 2 waiting · 1 paused", or "Queue idle" when nothing is under way. */
export function queueSummary(jobs: readonly Pick<JobLike, 'state'>[]): string {
  const n = (s: JobState) => jobs.filter((j) => j.state === s).length;
  const parts = [n('running') && `${n('running')} running`, n('queued') && `${n('queued')} waiting`, n('paused') && `${n('paused')} paused`].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'Queue idle';
}

/** Only waiting work can move: finished jobs keep their place. */
export function canReorder(state: JobState): boolean {
  return state === 'queued' || state === 'paused';
}
