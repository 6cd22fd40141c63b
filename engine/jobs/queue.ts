// The job queue (DESIGN 11). Every job is a JSON file in `<dir>/jobs/`, rewritten atomically on each
// change, so the queue is exactly what is on disk: a new JobQueue over the same folder (after an app
// restart, a crash, a kill -9) finds every job. Rules:
// - one job runs at a time (one GPU job: the engine holds the GPU);
// - a job found `running` on open was interrupted: it becomes `queued` and resumes from the
//   checkpoints in its work folder (`<dir>/work/<id>/`);
// - when the engine process dies mid-job, the job is queued again and resumes, with each recovery
//   written to its history so the UI can show it; the budget (`maxRecoveries`) counts deaths in a row
//   without progress, so a long job on a flaky machine finishes while one that crashes at once stops;
// - progress counts the whole job and never goes backwards across resumes (a resumed run reports
//   only the work left; the queue adds what was done before);
// - after an engine death the job's half-written files go: `<output>.partial.<ext>` and temp files
//   in its work folder (the checkpoints stay);
// - pause and cancel of a running job abort its signal; the runner stops at its next checkpoint.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ServiceError } from '../common/service-error.js';
import { isTempFile, writeJsonAtomic } from '../common/atomic-write.js';
import type { JobKind, JobRecord, JobState } from './job-types.js';
import { JOB_KINDS, JOB_STATES, newJobRecord, notYetRun } from './job-types.js';
import type { JobRunner } from './runner.js';
import { isCancel, isEngineDeath } from './runner.js';

export type QueueEvent =
  | { type: 'updated'; job: JobRecord }
  | { type: 'removed'; id: string }
  | { type: 'reordered'; ids: string[] }
  | { type: 'preview'; id: string; file: string };

export interface QueueOptions {
  /** The queue folder: jobs/<id>.json and work/<id>/. */
  dir: string;
  runner: JobRunner;
  /** Automatic resumes after the engine died mid-job, per job (default 3). */
  maxRecoveries?: number;
  /** Progress is written to disk at most this often (events go out on every update). Default 1000 ms. */
  progressWriteMs?: number;
  /** Start running jobs at once (default true). */
  autoStart?: boolean;
}

export interface AddJob {
  kind: JobKind;
  title: string;
  params: unknown;
  /** Put it before every other waiting job (previews), not after. */
  front?: boolean;
}

const HISTORY_MAX = 50;
const TERMINAL: readonly JobState[] = ['done', 'failed', 'cancelled'];

type Intent = 'pause' | 'cancel' | 'requeue';

interface Running {
  id: string;
  abort: AbortController;
  intent: Intent | null;
  done: Promise<void>;
}

export class JobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private running: Running | null = null;
  private writes: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(e: QueueEvent) => void>();
  private readonly lastWrite = new Map<string, number>();
  /** Engine deaths in a row without progress, per job (the recovery budget). */
  private readonly stalls = new Map<string, number>();
  private started = false;
  private stopped = false;
  /** Files that could not be read on open, each with its reason. */
  readonly problems: string[] = [];

  private constructor(private readonly opts: Required<Omit<QueueOptions, 'autoStart'>>) {}

  static async open(options: QueueOptions): Promise<JobQueue> {
    const q = new JobQueue({ maxRecoveries: 3, progressWriteMs: 1000, ...options });
    await mkdir(q.jobsDir, { recursive: true });
    await mkdir(q.workRoot, { recursive: true });
    for (const name of await readdir(q.jobsDir)) {
      const file = path.join(q.jobsDir, name);
      if (isTempFile(name)) {
        await rm(file, { force: true }); // a writer died before its rename; the real file is intact
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const job = parseJob(JSON.parse(await readFile(file, 'utf8')), name);
        if (job.state === 'running') {
          job.state = 'queued';
          q.note(job, 'the studio stopped while this job was running; it will resume from its last checkpoint');
          q.persist(job);
        }
        q.jobs.set(job.id, job);
      } catch (e) {
        q.problems.push(`${name}: ${(e as Error).message}`);
      }
    }
    await q.writes;
    if (options.autoStart ?? true) q.start();
    return q;
  }

  get dir(): string {
    return this.opts.dir;
  }
  private get jobsDir(): string {
    return path.join(this.opts.dir, 'jobs');
  }
  private get workRoot(): string {
    return path.join(this.opts.dir, 'work');
  }
  workDir(id: string): string {
    return path.join(this.workRoot, id);
  }

  on(cb: (e: QueueEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Every job in queue order (a copy). */
  list(): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => a.order - b.order).map((j) => structuredClone(j));
  }

  get(id: string): JobRecord {
    return structuredClone(this.must(id));
  }

  get runningId(): string | null {
    return this.running?.id ?? null;
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  async add(a: AddJob): Promise<JobRecord> {
    if (!JOB_KINDS.includes(a.kind)) throw new ServiceError('bad-input', `"${a.kind}" is not a job kind (expected ${JOB_KINDS.join(', ')})`);
    const orders = [...this.jobs.values()].map((j) => j.order);
    const order = orders.length === 0 ? 0 : a.front ? Math.min(...orders) - 1 : Math.max(...orders) + 1;
    const job = newJobRecord({ id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, kind: a.kind, title: a.title, state: 'queued', order, params: a.params });
    this.note(job, 'queued');
    this.jobs.set(job.id, job);
    await this.commit(job);
    this.pump();
    return structuredClone(job);
  }

  async pause(id: string): Promise<JobRecord> {
    const job = this.must(id);
    if (job.state === 'paused') return structuredClone(job);
    if (job.state === 'running') return this.stopRunning(job, 'pause');
    if (job.state !== 'queued') throw this.wrongState(job, 'pause');
    job.state = 'paused';
    this.note(job, 'paused');
    await this.commit(job);
    return structuredClone(job);
  }

  async resume(id: string): Promise<JobRecord> {
    const job = this.must(id);
    if (job.state === 'queued' || job.state === 'running') return structuredClone(job);
    if (job.state !== 'paused') throw this.wrongState(job, 'resume');
    job.state = 'queued';
    this.note(job, 'resumed; waiting for its turn');
    await this.commit(job);
    this.pump();
    return structuredClone(job);
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = this.must(id);
    if (job.state === 'cancelled') return structuredClone(job);
    if (job.state === 'running') return this.stopRunning(job, 'cancel');
    if (job.state !== 'queued' && job.state !== 'paused') throw this.wrongState(job, 'cancel');
    this.finish(job, 'cancelled', { code: 'cancelled', message: 'The job was cancelled.' });
    await this.commit(job);
    return structuredClone(job);
  }

  /** Queues a failed or cancelled job again; it resumes from whatever checkpoints its work folder holds. */
  async retry(id: string): Promise<JobRecord> {
    const job = this.must(id);
    if (job.state !== 'failed' && job.state !== 'cancelled') throw this.wrongState(job, 'retry');
    job.state = 'queued';
    job.error = null;
    job.recoveries = 0;
    job.finishedAt = null;
    this.note(job, 'queued again (retry)');
    await this.commit(job);
    this.pump();
    return structuredClone(job);
  }

  /** Moves a job to position `index` of the list (clamped); the rest keep their relative order. */
  async reorder(id: string, index: number): Promise<JobRecord[]> {
    this.must(id);
    const ids = this.list().map((j) => j.id).filter((x) => x !== id);
    ids.splice(Math.max(0, Math.min(index, ids.length)), 0, id);
    const changed: JobRecord[] = [];
    ids.forEach((jid, i) => {
      const j = this.jobs.get(jid)!;
      if (j.order !== i) {
        j.order = i;
        j.updatedAt = new Date().toISOString();
        changed.push(j);
      }
    });
    for (const j of changed) this.persist(j);
    await this.writes;
    this.emit({ type: 'reordered', ids });
    return this.list();
  }

  /** Forgets a job that is not running (its output file stays; its work folder goes). */
  async remove(id: string): Promise<void> {
    const job = this.must(id);
    if (job.state === 'running') throw this.wrongState(job, 'remove');
    this.jobs.delete(id);
    this.writes = this.writes.then(async () => {
      await rm(path.join(this.jobsDir, `${id}.json`), { force: true });
      await rm(this.workDir(id), { recursive: true, force: true });
    });
    await this.writes;
    this.emit({ type: 'removed', id });
  }

  /** Resolves when the job reaches `done`, `failed` or `cancelled` (or `paused` if `orPaused`). */
  settled(id: string, timeoutMs = 120_000, orPaused = false): Promise<JobRecord> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const j = this.jobs.get(id);
        if (!j) {
          reject(new ServiceError('not-found', `job ${id} was removed before it finished`));
          return true;
        }
        if (TERMINAL.includes(j.state) || (orPaused && j.state === 'paused')) {
          resolve(structuredClone(j));
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        off();
        reject(new Error(`job ${id} did not finish within ${timeoutMs} ms (state: ${this.jobs.get(id)?.state})`));
      }, timeoutMs);
      const off = this.on(() => {
        if (check()) {
          clearTimeout(timer);
          off();
        }
      });
    });
  }

  /**
   * Graceful stop: a running job is stopped at its next checkpoint and left `queued`, so the next
   * queue over this folder resumes it; then the runner is disposed.
   */
  async close(): Promise<void> {
    this.started = false;
    const r = this.running;
    if (r) {
      r.intent = 'requeue';
      r.abort.abort();
      await r.done;
    }
    await this.writes;
    this.stopped = true;
    await this.opts.runner.dispose?.();
  }

  /**
   * Abrupt stop, as a crash would leave things: nothing more is written (a running job stays
   * `running` on disk) and the runner is disposed. Used by hosts on fatal errors and by tests.
   */
  async abandon(): Promise<void> {
    this.stopped = true;
    this.started = false;
    await this.writes.catch(() => undefined);
    await this.opts.runner.dispose?.();
  }

  // -------------------------------------------------------------------------------------------------

  private async stopRunning(job: JobRecord, intent: Intent): Promise<JobRecord> {
    const r = this.running;
    if (!r || r.id !== job.id) throw this.wrongState(job, intent);
    r.intent = intent;
    this.note(job, intent === 'pause' ? 'pausing at the next checkpoint' : 'cancelling at the next checkpoint');
    await this.commit(job);
    r.abort.abort();
    await r.done;
    return structuredClone(this.must(job.id));
  }

  private pump(): void {
    if (!this.started || this.stopped || this.running) return;
    const next = [...this.jobs.values()].filter((j) => j.state === 'queued').sort((a, b) => a.order - b.order)[0];
    if (!next) return;
    const abort = new AbortController();
    const r: Running = { id: next.id, abort, intent: null, done: Promise.resolve() };
    this.running = r;
    r.done = this.runOne(next, r).finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private async runOne(job: JobRecord, r: Running): Promise<void> {
    job.state = 'running';
    job.attempts += 1;
    job.startedAt ??= new Date().toISOString();
    job.error = null;
    this.note(job, job.attempts === 1 ? 'started' : `started again (attempt ${job.attempts})`);
    await this.commit(job);
    const workDir = this.workDir(job.id);
    await mkdir(workDir, { recursive: true });
    let base: { t: number; done: number } | null = null;
    // What earlier attempts did: a resumed run reports only the work left, so its numbers are offset
    // by what is already done (and the dead attempt's rate is not used for the ETA).
    const before = job.progress && job.progress.total > 0 ? { done: job.progress.done, total: job.progress.total } : null;
    let offset: number | null = null;
    let advanced = false;
    if (before) job.progress = { done: before.done, total: before.total, message: 'resuming from the last checkpoint…', etaSeconds: null };
    try {
      const res = await this.opts.runner.run(structuredClone(job), {
        signal: r.abort.signal,
        workDir,
        progress: (p) => {
          if (this.stopped || job.state !== 'running') return;
          const t = performance.now();
          if (!base) base = { t, done: p.done };
          if (p.total > 0 && offset === null) offset = before && p.total < before.total ? before.total - p.total : 0;
          const off = offset ?? 0;
          const total = p.total > 0 ? p.total + off : (job.progress?.total ?? 0);
          // Never backwards: a stage message (total 0) or a resumed run's first events keep the count.
          const done = Math.max(p.total > 0 ? p.done + off : 0, job.progress?.done ?? 0, before?.done ?? 0);
          if (p.done > base.done) advanced = true;
          const rate = p.done > base.done ? (t - base.t) / 1000 / (p.done - base.done) : null;
          job.progress = { done, total, ...(p.message !== undefined ? { message: p.message } : job.progress?.message !== undefined ? { message: job.progress.message } : {}), etaSeconds: rate === null ? null : Math.max(0, Math.round(rate * (total - done))) };
          this.touch(job);
        },
        preview: (file) => {
          if (this.stopped || job.state !== 'running') return;
          job.preview = file;
          this.emit({ type: 'preview', id: job.id, file });
          this.touch(job);
        },
      });
      job.output = res.output ?? null;
      job.result = res.result ?? null;
      if (job.progress) job.progress = { ...job.progress, done: job.progress.total, etaSeconds: 0 };
      this.finish(job, 'done', null);
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      if (r.intent === 'requeue') {
        job.state = 'queued';
        this.note(job, 'stopped because the studio is closing; it will resume from its last checkpoint');
      } else if (r.intent === 'pause' && (isCancel(e) || isEngineDeath(e))) {
        job.state = 'paused';
        this.note(job, 'paused; resuming continues from the last checkpoint');
      } else if (isCancel(e) || (r.intent === 'cancel' && isEngineDeath(e))) {
        this.finish(job, 'cancelled', { code: 'cancelled', message: 'The job was cancelled.' });
      } else if (isEngineDeath(e)) {
        await this.removeLeftovers(job, workDir);
        // A death after progress starts the count again: only deaths in a row without progress use the budget.
        const stalls = advanced ? 0 : (this.stalls.get(job.id) ?? 0) + 1;
        this.stalls.set(job.id, stalls);
        if (stalls <= this.opts.maxRecoveries) {
          job.recoveries += 1;
          job.state = 'queued';
          this.note(job, `the engine stopped (${msg}); restarting it and resuming from the last checkpoint (recovery ${job.recoveries}${stalls > 0 ? `; ${stalls} of ${this.opts.maxRecoveries} in a row without progress` : ''})`);
        } else {
          this.finish(job, 'failed', { code: 'engine', message: `The engine process died ${stalls} times in a row without making progress on this job; the last time: ${msg}` });
        }
      } else {
        this.finish(job, 'failed', { code: 'failed', message: msg });
      }
    }
    if (this.stopped) return;
    // (finish() set the state; TypeScript still narrows it to the values assigned in this function.)
    if ((job.state as JobState) === 'failed') await this.keepOrDropWork(job, workDir);
    await this.commit(job);
  }

  /**
   * A failed job keeps its work folder only when Retry can resume from it (checkpoints are there), and
   * its history says which; a folder with nothing to resume from (or only previews) is removed.
   */
  private async keepOrDropWork(job: JobRecord, workDir: string): Promise<void> {
    const resumable = async (dir: string, depth: number): Promise<boolean> => {
      for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (d.name === 'previews' || isTempFile(d.name)) continue;
        if (d.isFile()) return true;
        if (d.isDirectory() && depth > 0 && (await resumable(path.join(dir, d.name), depth - 1))) return true;
      }
      return false;
    };
    if (await resumable(workDir, 3)) {
      this.note(job, `its checkpoints are kept in ${workDir}; Retry continues from them`);
    } else {
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
      this.note(job, 'nothing was checkpointed, so its work folder was removed; Retry starts it from the beginning');
    }
  }

  /** Half-written files of a dead attempt: the partial output and temp files (the checkpoints stay). */
  private async removeLeftovers(job: JobRecord, workDir: string): Promise<void> {
    const out = (job.params as { output?: unknown } | null)?.output;
    if (typeof out === 'string' && out) {
      const ext = path.extname(out);
      await rm(`${out.slice(0, out.length - ext.length)}.partial${ext}`, { force: true }).catch(() => undefined);
    }
    const sweep = async (dir: string, depth: number): Promise<void> => {
      for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(dir, d.name);
        if (d.isDirectory() && depth > 0) await sweep(p, depth - 1);
        else if (d.isFile() && isTempFile(d.name)) await rm(p, { force: true }).catch(() => undefined);
      }
    };
    await sweep(workDir, 2);
  }

  private finish(job: JobRecord, state: 'done' | 'failed' | 'cancelled', error: JobRecord['error']): void {
    job.state = state;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    this.note(job, state === 'done' ? 'finished' : state === 'cancelled' ? 'cancelled' : `failed: ${error?.message ?? ''}`);
  }

  private note(job: JobRecord, message: string): void {
    job.updatedAt = new Date().toISOString();
    job.history.push({ at: job.updatedAt, message });
    if (job.history.length > HISTORY_MAX) job.history.splice(0, job.history.length - HISTORY_MAX);
  }

  /** Progress: emit now, write at most every progressWriteMs. */
  private touch(job: JobRecord): void {
    job.updatedAt = new Date().toISOString();
    this.emit({ type: 'updated', job: structuredClone(job) });
    const t = Date.now();
    if (t - (this.lastWrite.get(job.id) ?? 0) >= this.opts.progressWriteMs) this.persist(job);
  }

  private async commit(job: JobRecord): Promise<void> {
    this.persist(job);
    await this.writes;
    this.emit({ type: 'updated', job: structuredClone(job) });
  }

  private persist(job: JobRecord): void {
    if (this.stopped) return;
    const snapshot = structuredClone(job);
    this.lastWrite.set(job.id, Date.now());
    const file = path.join(this.jobsDir, `${job.id}.json`);
    this.writes = this.writes
      .then(() => (this.jobs.has(job.id) && !this.stopped ? writeJsonAtomic(file, snapshot) : undefined))
      .catch((e: unknown) => {
        // A failed write must not stop the queue; the next change writes the whole record again.
        this.problems.push(`could not save job ${job.id}: ${(e as Error).message}`);
      });
  }

  private emit(e: QueueEvent): void {
    for (const cb of this.listeners) {
      try {
        cb(e);
      } catch {
        /* a listener's bug must not break the queue */
      }
    }
  }

  private must(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (!j) throw new ServiceError('not-found', `There is no job with id ${id}; it may have been removed.`);
    return j;
  }

  private wrongState(job: JobRecord, action: string): ServiceError {
    return new ServiceError('conflict', `Job "${job.title}" is ${job.state}, so it cannot ${action === 'requeue' ? 'be requeued' : `be ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : action === 'cancel' ? 'cancelled' : action === 'retry' ? 'retried' : 'removed'}`}.`);
  }
}

function parseJob(v: unknown, name: string): JobRecord {
  const j = v as Partial<JobRecord>;
  if (typeof j !== 'object' || j === null) throw new Error('not a JSON object');
  if (typeof j.id !== 'string' || `${j.id}.json` !== name) throw new Error('its "id" does not match the file name');
  if (!JOB_STATES.includes(j.state as JobState)) throw new Error(`unknown state ${JSON.stringify(j.state)}`);
  if (!JOB_KINDS.includes(j.kind as JobKind)) throw new Error(`unknown kind ${JSON.stringify(j.kind)}`);
  if (typeof j.order !== 'number') throw new Error('"order" is missing');
  return { ...notYetRun(), ...j } as JobRecord;
}
