// jobs.*: the queue as the studio shows it (views with media URLs), its controls, and the finished output.
import { stat } from 'node:fs/promises';
import type { Handlers } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';

type JobHandlers = Pick<Handlers, 'jobs.list' | 'jobs.get' | 'jobs.pause' | 'jobs.resume' | 'jobs.cancel' | 'jobs.retry' | 'jobs.reorder' | 'jobs.remove' | 'jobs.openOutput'>;

export function jobHandlers(ctx: ServiceContext): JobHandlers {
  const q = ctx.queue;
  return {
    'jobs.list': async () => q.list().map((j) => ctx.view(j)),
    'jobs.get': async ({ id }) => ctx.view(q.get(id)),
    'jobs.pause': async ({ id }) => ctx.view(await q.pause(id)),
    'jobs.resume': async ({ id }) => ctx.view(await q.resume(id)),
    'jobs.cancel': async ({ id }) => ctx.view(await q.cancel(id)),
    'jobs.retry': async ({ id }) => ctx.view(await q.retry(id)),
    'jobs.reorder': async ({ id, index }) => {
      const job = q.get(id);
      // Finished jobs keep their place: only waiting work can be moved.
      if (job.state !== 'queued' && job.state !== 'paused') throw new ServiceError('conflict', `"${job.title}" is ${job.state}; only queued or paused jobs can be moved.`);
      return (await q.reorder(id, index)).map((j) => ctx.view(j));
    },
    'jobs.remove': async ({ id }) => {
      await q.remove(id);
      return { removed: id };
    },
    'jobs.openOutput': async ({ id }) => {
      const job = q.get(id);
      if (job.state !== 'done' || !job.output) throw new ServiceError('conflict', `"${job.title}" has no finished file yet (it is ${job.state}).`);
      if (!(await stat(job.output).then(() => true, () => false))) throw new ServiceError('not-found', `The output file ${job.output} is gone; it may have been moved or deleted.`);
      return { path: job.output, url: ctx.urlFor(job.output) };
    },
  };
}
