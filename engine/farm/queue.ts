// The farm's queue as submitters and the studio use it (BullMQ on Redis): submit exports, list them,
// and pause / resume / cancel / retry / reorder them. Workers (worker.ts) pull from the same queue.
// BullMQ has no per-job pause or cancel of a waiting job, so both are a `control` field in the job's
// payload: the view shows it at once, and whichever worker takes the job next (or runs it now, polling
// the field) acts on it — a paused job is parked as delayed until resumed, a cancelled one is failed
// with "The job was cancelled." and never retried. Reorder rewrites BullMQ priorities (lower first).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Job, JobType } from 'bullmq';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import type { FarmConnection } from './connection.js';
import { FarmConnectionError, explainRedisError, redisOptions, testConnection } from './connection.js';
import type { FarmJobResult, FarmJobState, FarmJobView } from './job-view.js';
import { CANCELLED_MESSAGE } from './job-view.js';
import type { FarmPayload } from './payload.js';
import { FarmPayloadSchema, toPayload } from './payload.js';

export const FARM_PREFIX = 'refree-farm';
export const FARM_QUEUE = 'exports';
/** A job that fails this many times is parked as failed with the last reason. */
export const FARM_ATTEMPTS = 3;
/** How far in the future a paused job is parked (it waits for Resume, not for the clock). */
export const PARK_MS = 10 * 365 * 24 * 3600 * 1000;

export interface FarmQueueOptions {
  /** Queue name (default "exports"); tests and benchmarks use their own. */
  queueName?: string;
  /** Milliseconds before the first retry of a failed attempt (doubling after). Default 5000. */
  backoffMs?: number;
}

export class FarmError extends Error {
  override name = 'FarmError';
  constructor(
    readonly code: 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

const LIST_STATES: JobType[] = ['active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed'];

export class FarmQueue {
  private constructor(
    readonly queue: Queue,
    private readonly conn: FarmConnection,
    private readonly backoffMs: number,
  ) {}

  /** Tests the connection first: an unreachable Redis or a wrong password throws FarmConnectionError. */
  static async open(conn: FarmConnection, opts: FarmQueueOptions = {}): Promise<FarmQueue> {
    await testConnection(conn);
    const queue = new Queue(opts.queueName ?? FARM_QUEUE, { connection: redisOptions(conn), prefix: FARM_PREFIX });
    queue.on('error', () => undefined); // reconnects are reported by the calls that fail
    return new FarmQueue(queue, conn, opts.backoffMs ?? 5000);
  }

  /** Queues an export (at the back unless a priority is given). `root` is this machine's shared folder. */
  async submit(root: string, params: GenerateJobParams, title: string, opts: { priority?: number; jobId?: string } = {}): Promise<FarmJobView> {
    const payload = toPayload(root, params, title, hostname());
    return this.guard(async () => {
      // Two unfinished jobs writing one file would overwrite each other's video.
      const unfinished = await this.queue.getJobs(['active', 'waiting', 'prioritized', 'delayed'], 0, 9999);
      const claimed = unfinished.find((j) => j && j.id !== opts.jobId && (j.data as Partial<FarmPayload>).params?.output === payload.params.output && (j.data as Partial<FarmPayload>).control !== 'cancel');
      if (claimed) throw new FarmError('conflict', `Another farm job ("${(claimed.data as FarmPayload).title}") already writes ${payload.params.output} in the shared folder; choose another file name.`);
      const priority = opts.priority ?? (await this.lastPriority()) + 1;
      const job = await this.queue.add('export', payload, {
        priority,
        // Our own ids, never BullMQ's counter: the id names the job's checkpoints and the watermark
        // payload's job half, which must stay unique even if the Redis data is ever lost. A given id
        // makes a submit idempotent: the same id again is the same job, not a second one.
        jobId: opts.jobId ?? newJobId(),
        attempts: FARM_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.backoffMs },
        removeOnComplete: false,
        removeOnFail: false,
      });
      return view(job, 'waiting');
    });
  }

  /** Every job: running, then waiting in the order they will run, then paused, then finished (newest first). */
  async list(): Promise<FarmJobView[]> {
    return this.guard(async () => {
      const out: FarmJobView[] = [];
      for (const state of LIST_STATES) {
        const jobs = (await this.queue.getJobs([state], 0, 999)).filter((j): j is Job => Boolean(j));
        out.push(...jobs.map((j) => view(j, state)));
      }
      const rank: Record<FarmJobState, number> = { running: 0, queued: 1, paused: 2, failed: 3, cancelled: 3, done: 3 };
      return out.sort((a, b) => rank[a.state] - rank[b.state] || (rank[a.state] === 3 ? (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '') : a.priority - b.priority || a.createdAt.localeCompare(b.createdAt)));
    });
  }

  async get(id: string): Promise<FarmJobView> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      return view(j, state);
    });
  }

  async pause(id: string): Promise<FarmJobView> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      const v = view(j, state);
      if (v.state === 'paused') return v;
      if (v.state !== 'queued' && v.state !== 'running') throw wrongState(v, 'paused');
      await j.updateData({ ...(j.data as FarmPayload), control: 'pause' });
      return this.get(id);
    });
  }

  async resume(id: string): Promise<FarmJobView> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      const v = view(j, state);
      if (v.state === 'queued' || v.state === 'running') return v;
      if (v.state !== 'paused') throw wrongState(v, 'resumed');
      await j.updateData({ ...(j.data as FarmPayload), control: null });
      if (state === 'delayed') await j.promote();
      return this.get(id);
    });
  }

  async cancel(id: string): Promise<FarmJobView> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      const v = view(j, state);
      if (v.state === 'cancelled') return v;
      if (v.state === 'done' || v.state === 'failed') throw wrongState(v, 'cancelled');
      await j.updateData({ ...(j.data as FarmPayload), control: 'cancel' });
      // A parked (paused) job goes back to the queue so a worker can close it as cancelled.
      if (state === 'delayed') await j.promote();
      return this.get(id);
    });
  }

  /** A failed or cancelled job runs again, from its chunk checkpoints, with three fresh attempts. */
  async retry(id: string): Promise<FarmJobView> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      const v = view(j, state);
      if (v.state !== 'failed' && v.state !== 'cancelled') throw wrongState(v, 'retried');
      await j.updateData({ ...(j.data as FarmPayload), control: null });
      if (state === 'failed') await j.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return this.get(id);
    });
  }

  /** Moves a queued or paused job to position `index` among them (priorities 1..n rewritten). */
  async reorder(id: string, index: number): Promise<FarmJobView[]> {
    return this.guard(async () => {
      const all = await this.list();
      const target = all.find((j) => j.id === id);
      if (!target) throw new FarmError('not-found', `There is no farm job with id ${id}; it may have been removed.`);
      if (target.state !== 'queued' && target.state !== 'paused') throw new FarmError('conflict', `"${target.title}" is ${target.state}; only queued or paused farm jobs can be moved.`);
      const waiting = all.filter((j) => (j.state === 'queued' || j.state === 'paused') && j.id !== id);
      waiting.splice(Math.max(0, Math.min(index, waiting.length)), 0, target);
      for (const [i, w] of waiting.entries()) {
        if (w.priority === i + 1) continue;
        const j = await this.queue.getJob(w.id);
        await j?.changePriority({ priority: i + 1 });
      }
      return this.list();
    });
  }

  /** Forgets a job that is not running (its output stays). */
  async remove(id: string): Promise<void> {
    return this.guard(async () => {
      const { j, state } = await this.snapshot(id);
      const v = view(j, state);
      if (v.state === 'running') throw wrongState(v, 'removed');
      await j.remove();
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  // -------------------------------------------------------------------------------------------------

  private async lastPriority(): Promise<number> {
    const jobs = await this.queue.getJobs(['prioritized', 'waiting', 'delayed'], 0, 9999);
    return jobs.reduce((m, j) => Math.max(m, j?.priority ?? 0), 0);
  }

  /**
   * A job and its state, the state read first: a job that completes between the two reads then shows
   * as still running, never as done without its result (read the other way round it could).
   */
  private async snapshot(id: string): Promise<{ j: Job; state: string }> {
    const state = await this.queue.getJobState(id);
    return { j: await this.must(id), state };
  }

  private async must(id: string): Promise<Job> {
    const j = await this.queue.getJob(id);
    if (!j) throw new FarmError('not-found', `There is no farm job with id ${id}; it may have been removed.`);
    return j;
  }

  /** Redis failures become one sentence about the connection. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FarmError || e instanceof FarmConnectionError || (e as Error).name === 'FarmPathError' || (e as Error).name === 'FarmPayloadError') throw e;
      if ((e as NodeJS.ErrnoException).code || /Connection|ECONN|WRONGPASS|NOAUTH/.test((e as Error).message)) throw new FarmConnectionError(explainRedisError(e, this.conn));
      throw e;
    }
  }
}

/** Time-ordered and file-name safe, like the local queue's ids (never all digits: BullMQ refuses those). */
export const newJobId = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

function wrongState(v: FarmJobView, verb: string): FarmError {
  return new FarmError('conflict', `Farm job "${v.title}" is ${v.state}, so it cannot be ${verb}.`);
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** BullMQ's job and state → what people see. */
export function view(j: Job, bullState: string): FarmJobView {
  const parsed = FarmPayloadSchema.safeParse(j.data);
  const data = (parsed.success ? parsed.data : j.data) as Partial<FarmPayload>;
  const control = data.control ?? null;
  const failed = bullState === 'failed';
  let state: FarmJobState;
  if (bullState === 'completed') state = 'done';
  else if (failed) state = j.failedReason === CANCELLED_MESSAGE ? 'cancelled' : 'failed';
  else if (control === 'cancel') state = 'cancelled';
  else if (bullState === 'active') state = 'running';
  else if (control === 'pause') state = 'paused';
  else state = 'queued';
  const p = j.progress as { done?: number; total?: number; message?: string; worker?: string } | number | null;
  const progress = typeof p === 'object' && p && typeof p.total === 'number' ? { done: p.done ?? 0, total: p.total, message: p.message ?? null } : null;
  const result = bullState === 'completed' ? ((j.returnvalue as FarmJobResult | null) ?? null) : null;
  return {
    id: j.id!,
    title: data.title ?? `farm job ${j.id}`,
    state,
    worker: result?.worker ?? j.processedBy ?? (typeof p === 'object' && p ? (p.worker ?? null) : null),
    progress,
    attempts: j.attemptsStarted ?? 0,
    failures: j.attemptsMade ?? 0,
    stalls: j.stalledCounter ?? 0,
    error: j.failedReason ? j.failedReason : null,
    output: data.params?.output ?? '',
    result,
    priority: j.priority ?? 0,
    submittedFrom: data.submittedFrom ?? '',
    createdAt: new Date(j.timestamp).toISOString(),
    startedAt: iso(j.processedOn),
    finishedAt: iso(j.finishedOn),
  };
}
