// The renderer's queue is a mirror of the service's (the engine side owns the job files, DESIGN 11):
// a snapshot from jobs.list, then job.updated / job.removed / jobs.reordered events applied here. Pure
// functions so the node test runner checks them.
import type { JobView } from '../../../engine/service/contract.js';

/** Queue order: the service's `order`, then creation time, so the mirror sorts the same way everywhere. */
export function sortJobs(jobs: readonly JobView[]): JobView[] {
  return [...jobs].sort((a, b) => a.order - b.order || a.createdAt.localeCompare(b.createdAt));
}

export function upsertJob(jobs: readonly JobView[], job: JobView): JobView[] {
  const i = jobs.findIndex((j) => j.id === job.id);
  if (i === -1) return sortJobs([...jobs, job]);
  // An event can overtake the answer of a slower jobs.list: never go back to an older record.
  if (jobs[i]!.updatedAt > job.updatedAt) return jobs as JobView[];
  const next = [...jobs];
  next[i] = job;
  return sortJobs(next);
}

export function removeJob(jobs: readonly JobView[], id: string): JobView[] {
  return jobs.filter((j) => j.id !== id);
}

/**
 * Applies a reorder event: the listed ids take positions 0..n-1 (their `order` is rewritten too, so a
 * later sort by `order` keeps the new order); ids the mirror lacks are ignored.
 */
export function reorderJobs(jobs: readonly JobView[], ids: readonly string[]): JobView[] {
  const rank = new Map(ids.map((id, i) => [id, i]));
  return sortJobs(jobs.map((j) => (rank.has(j.id) && j.order !== rank.get(j.id) ? { ...j, order: rank.get(j.id)! } : j)));
}

/** What each state allows, so buttons are disabled rather than failing with a conflict error. */
export function jobActions(job: Pick<JobView, 'state' | 'output'>): { pause: boolean; resume: boolean; cancel: boolean; retry: boolean; remove: boolean; open: boolean } {
  const s = job.state;
  return {
    pause: s === 'queued' || s === 'running',
    resume: s === 'paused',
    cancel: s === 'queued' || s === 'running' || s === 'paused',
    retry: s === 'failed' || s === 'cancelled',
    remove: s === 'done' || s === 'failed' || s === 'cancelled',
    open: s === 'done' && job.output !== null,
  };
}
