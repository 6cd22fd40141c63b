// One farm worker: a BullMQ worker that takes one export at a time and runs it through the studio's
// own engine job (studio.generate in an engine process, EngineJobRunner), exactly as the local queue
// does. The job's chunk checkpoints live on the shared folder (<shared>/.refree-farm/work/<job>/), so
// when a worker dies mid-job (SIGKILL, power, network) BullMQ's stalled-job check hands the job to
// another worker, which resumes from the last finished chunk; the frames are those of an uninterrupted
// run because the pipeline's chunks are deterministic and tagged with the job's fingerprint.
// Failures: an attempt that throws is retried with backoff; the third failure parks the job as failed
// with its reason. A job stalled a third time is failed by BullMQ the same way.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { EngineJobRunner } from '../jobs/engine-runner.js';
import type { JobRecord } from '../jobs/job-types.js';
import { newJobRecord } from '../jobs/job-types.js';
import type { JobRunner } from '../jobs/runner.js';
import type { FarmConnection } from './connection.js';
import { explainRedisError, redisOptions, testConnection } from './connection.js';
import type { FarmJobResult } from './job-view.js';
import { CANCELLED_MESSAGE } from './job-view.js';
import type { FarmPayload } from './payload.js';
import { parsePayload, toJobParams } from './payload.js';
import { FARM_PREFIX, FARM_QUEUE, PARK_MS } from './queue.js';
import { farmWorkDir, sharedRoot, toSharedPath } from './shared-folder.js';

const STUDIO_JOBS_MODULE = fileURLToPath(new URL('../jobs/studio-jobs.ts', import.meta.url));

export interface FarmWorkerOptions {
  connection: FarmConnection;
  /** This machine's mount of the shared folder. */
  shared: string;
  /** Shown on the queue screen beside the jobs it runs (default: host name, plus the GPU index). */
  name?: string;
  /** GPU index: the engine sees only this GPU (CUDA_VISIBLE_DEVICES). */
  gpu?: number | null;
  backend?: 'cuda' | 'webgpu' | 'cpu' | null;
  queueName?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job is free again after this. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default 15 s). */
  stalledIntervalMs?: number;
  /** How often a running job's pause/cancel control is read (default 1 s). */
  controlPollMs?: number;
  /** Who runs the engine job (default: an engine process with the studio's jobs). */
  runner?: JobRunner;
  onEvent?: (e: FarmWorkerEvent) => void;
}

export type FarmWorkerEvent =
  | { type: 'ready'; worker: string; queue: string; shared: string }
  | { type: 'started'; id: string; title: string; attempt: number; resume: boolean }
  | { type: 'progress'; id: string; done: number; total: number; message: string | null }
  | { type: 'finished'; id: string; result: FarmJobResult }
  | { type: 'stopped'; id: string; reason: 'paused' | 'cancelled' | 'shutdown' }
  | { type: 'failed'; id: string; message: string; willRetry: boolean }
  | { type: 'error'; message: string };

type Intent = 'pause' | 'cancel' | 'shutdown';

/** The engine job id of a farm job: its watermark payload's job half is derived from it. */
export const engineJobId = (farmId: string): string => `farm-${farmId}`.replace(/[^A-Za-z0-9_-]/g, '_');

export class FarmWorker {
  private readonly running = new Map<string, { abort: AbortController; intent: Intent | null }>();
  private closing = false;

  private constructor(
    readonly name: string,
    readonly root: string,
    private readonly worker: Worker,
    private readonly queue: Queue,
    private readonly runner: JobRunner,
    private readonly tmp: string | null,
  ) {}

  /** Checks the shared folder and the connection (throwing a sentence for either), then starts taking jobs. */
  static async start(opts: FarmWorkerOptions): Promise<FarmWorker> {
    const root = sharedRoot(opts.shared);
    await testConnection(opts.connection);
    const name = opts.name ?? `${os.hostname()}${opts.gpu !== undefined && opts.gpu !== null ? `-gpu${opts.gpu}` : ''}`;
    const queueName = opts.queueName ?? FARM_QUEUE;
    let tmp: string | null = null;
    let runner = opts.runner;
    if (!runner) {
      // The engine's temporary files go to a folder of this worker's own, emptied when an engine starts.
      tmp = path.join(os.tmpdir(), `refree-farm-${process.pid}`);
      const engineTmp = tmp;
      runner = new EngineJobRunner({
        engineJob: () => 'studio.generate',
        jobModules: [STUDIO_JOBS_MODULE],
        fork: { env: { ...process.env, TMPDIR: engineTmp, TMP: engineTmp, TEMP: engineTmp, ...(opts.gpu !== undefined && opts.gpu !== null ? { CUDA_VISIBLE_DEVICES: String(opts.gpu) } : {}) } },
        extraParams: () => (opts.backend ? { backend: opts.backend } : {}),
        onState: (state) => {
          if (state === 'starting') {
            rmSync(engineTmp, { recursive: true, force: true });
            mkdirSync(engineTmp, { recursive: true });
          }
        },
      });
    }
    const connection = redisOptions(opts.connection);
    const queue = new Queue(queueName, { connection, prefix: FARM_PREFIX });
    queue.on('error', () => undefined);
    let self: FarmWorker | null = null;
    const lockDuration = opts.lockDurationMs ?? 30_000;
    const worker = new Worker(queueName, (job, token) => self!.process(job, token, opts.controlPollMs ?? 1000), {
      connection,
      prefix: FARM_PREFIX,
      name,
      concurrency: 1,
      lockDuration,
      stalledInterval: opts.stalledIntervalMs ?? 15_000,
      // Recovered twice; the third stall fails the job (like the third failed attempt).
      maxStalledCount: 2,
      autorun: false,
    });
    self = new FarmWorker(name, root, worker, queue, runner, tmp);
    const emit = opts.onEvent ?? (() => undefined);
    self.emit = emit;
    worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError || err instanceof WaitingError || err.name === 'DelayedError' || err.name === 'WaitingError') return;
      const willRetry = !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
      emit({ type: 'failed', id: job.id!, message: err.message, willRetry });
    });
    // While Redis is away the clients retry every second or two: say so once (again after 30 s), not each time.
    let last = { message: '', at: 0 };
    worker.on('error', (e) => {
      const message = `${explainRedisError(e, opts.connection)} Retrying until it answers.`;
      if (message === last.message && Date.now() - last.at < 30_000) return;
      last = { message, at: Date.now() };
      emit({ type: 'error', message });
    });
    void worker.run();
    await worker.waitUntilReady();
    emit({ type: 'ready', worker: name, queue: queueName, shared: root });
    return self;
  }

  private emit: (e: FarmWorkerEvent) => void = () => undefined;

  /** The engine's pid while one runs (tests). */
  get enginePid(): number | null {
    return (this.runner as Partial<EngineJobRunner>).pid ?? null;
  }

  private async process(job: Job, token: string | undefined, pollMs: number): Promise<FarmJobResult> {
    let payload: FarmPayload;
    try {
      payload = parsePayload(job.data);
    } catch (e) {
      throw new UnrecoverableError((e as Error).message);
    }
    if (payload.control === 'cancel') throw new UnrecoverableError(CANCELLED_MESSAGE);
    if (payload.control === 'pause') return this.park(job, token);
    let params;
    try {
      params = toJobParams(this.root, payload);
    } catch (e) {
      // A path outside the shared folder never becomes right by retrying.
      throw new UnrecoverableError((e as Error).message);
    }
    const id = engineJobId(job.id!);
    // Finished earlier by a worker that died before it could report it: the video and its sidecar
    // (written last) are there and name this job.
    const earlier = await this.finishedEarlier(params.output, id);
    if (earlier) return earlier;
    mkdirSync(path.dirname(params.output), { recursive: true });
    const workDir = farmWorkDir(this.root, id);
    const resume = existsSync(path.join(workDir, 'chunks')) && readdirSync(path.join(workDir, 'chunks')).length > 0;
    mkdirSync(workDir, { recursive: true });
    const abort = new AbortController();
    const slot = { abort, intent: null as Intent | null };
    this.running.set(job.id!, slot);
    this.emit({ type: 'started', id: job.id!, title: payload.title, attempt: job.attemptsStarted, resume });
    // Pause and cancel arrive as the payload's control field; read it while the job runs.
    const poll = setInterval(() => {
      void this.queue
        .getJob(job.id!)
        .then((j) => {
          const c = (j?.data as FarmPayload | undefined)?.control;
          if ((c === 'pause' || c === 'cancel') && !slot.intent) {
            slot.intent = c;
            abort.abort();
          }
        })
        .catch(() => undefined);
    }, pollMs);
    let lastProgress = 0;
    // attempts above 1 make the engine job resume from its checkpoints.
    const record: JobRecord = { ...newJobRecord({ id, kind: 'export', title: payload.title, state: 'running', order: 0, params, createdAt: new Date(job.timestamp).toISOString() }), attempts: resume ? 2 : 1 };
    try {
      const res = await this.runner.run(record, {
        signal: abort.signal,
        workDir,
        progress: (p) => {
          const now = Date.now();
          if (now - lastProgress < 500 && p.done < p.total) return;
          lastProgress = now;
          void job.updateProgress({ done: p.done, total: p.total, message: p.message ?? null, worker: this.name }).catch(() => undefined);
          this.emit({ type: 'progress', id: job.id!, done: p.done, total: p.total, message: p.message ?? null });
        },
        preview: () => undefined,
      });
      const r = res.result as { frames: number; frameDigest: string; payload: string; resumedChunks: number; chunks: number; timings?: { total?: number } };
      const result: FarmJobResult = { output: payload.params.output, worker: this.name, frames: r.frames, frameDigest: r.frameDigest, payload: r.payload, resumedChunks: r.resumedChunks, chunks: r.chunks, seconds: r.timings?.total ?? 0 };
      rmSync(workDir, { recursive: true, force: true });
      this.emit({ type: 'finished', id: job.id!, result });
      return result;
    } catch (e) {
      if (slot.intent === 'cancel') {
        this.emit({ type: 'stopped', id: job.id!, reason: 'cancelled' });
        throw new UnrecoverableError(CANCELLED_MESSAGE);
      }
      if (slot.intent === 'pause') {
        this.emit({ type: 'stopped', id: job.id!, reason: 'paused' });
        return this.park(job, token);
      }
      if (slot.intent === 'shutdown') {
        this.emit({ type: 'stopped', id: job.id!, reason: 'shutdown' });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw e;
    } finally {
      clearInterval(poll);
      this.running.delete(job.id!);
    }
  }

  /** Paused: parked as delayed far in the future until Resume promotes it. */
  private async park(job: Job, token: string | undefined): Promise<never> {
    await job.moveToDelayed(Date.now() + PARK_MS, token);
    throw new DelayedError();
  }

  private async finishedEarlier(output: string, id: string): Promise<FarmJobResult | null> {
    if (!existsSync(output)) return null;
    try {
      const side = JSON.parse(await readFile(`${output}.json`, 'utf8')) as { jobId?: string; frames: number; frameDigest: string; payload: string; resumedChunks: number; chunks: number; timings?: { total?: number } };
      if (side.jobId !== id) return null;
      return { output: toSharedPath(this.root, output, 'The output'), worker: this.name, frames: side.frames, frameDigest: side.frameDigest, payload: side.payload, resumedChunks: side.resumedChunks, chunks: side.chunks, seconds: side.timings?.total ?? 0 };
    } catch {
      return null;
    }
  }

  /**
   * Graceful stop: a running job is stopped at its next checkpoint and put back in the queue for
   * another worker (or this one, later) to resume; then the engine and the connections close.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const slot of this.running.values()) {
      slot.intent = 'shutdown';
      slot.abort.abort();
    }
    // Closing waits for Redis to take the job back; when Redis is away, give up after 10 s (the job's
    // lock then expires and another worker resumes it from its checkpoint) and drop the connections.
    const within = (p: Promise<unknown>, ms: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer));
    };
    if (!(await within(this.worker.close(), 10_000))) await within(this.worker.disconnect(), 1000);
    if (!(await within(this.queue.close(), 2000))) await within(this.queue.disconnect(), 1000);
    await this.runner.dispose?.();
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }
}
