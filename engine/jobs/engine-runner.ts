// Runs queue jobs in the engine process (DESIGN 8): the host never loads ORT on its own thread. The
// engine is forked on first use and forked again after it dies, so a crash costs the running job one
// restart (the queue resumes it from its checkpoints) and nothing else.
import { EngineClient } from '../runtime/engine-client.js';
import type { ForkOptions } from '../runtime/transport.js';
import type { JobKind, JobRecord } from './job-types.js';
import { decodeProgressMessage } from './progress-message.js';
import type { JobRunContext, JobRunner, JobRunResult } from './runner.js';

export type EngineRunnerState = 'stopped' | 'starting' | 'ready' | 'busy' | 'crashed';

export interface EngineRunnerOptions {
  /** Engine job name for each job kind (e.g. preview/export → 'studio.generate'). */
  engineJob: (kind: JobKind) => string;
  /** Job modules for the engine process (--jobs=…). */
  jobModules?: readonly string[];
  fork?: Omit<ForkOptions, 'jobModules'>;
  /** Extra params merged into every call (e.g. the backend setting). */
  extraParams?: () => Record<string, unknown>;
  onState?: (state: EngineRunnerState, pid: number | null, message: string | null) => void;
}

/** What an engine job receives from the queue, besides the job's own params. */
export interface EngineJobEnvelope {
  jobId: string;
  workDir: string;
  attempt: number;
  params: unknown;
  [k: string]: unknown;
}

export class EngineJobRunner implements JobRunner {
  private client: EngineClient | null = null;
  private starting: Promise<EngineClient> | null = null;
  private disposed = false;

  constructor(private readonly opts: EngineRunnerOptions) {}

  /** The engine's pid while it runs (tests kill it to prove recovery). */
  get pid(): number | null {
    return this.client?.running ? (this.client.pid ?? null) : null;
  }

  get state(): EngineRunnerState {
    if (this.starting) return 'starting';
    if (!this.client) return 'stopped';
    return this.client.running ? 'ready' : 'crashed';
  }

  /** The running engine, forked if there is none (or the last one died). */
  engine(): Promise<EngineClient> {
    if (this.disposed) return Promise.reject(Object.assign(new Error('the studio is shutting down'), { name: 'EngineDiedError' }));
    if (this.client?.running) return Promise.resolve(this.client);
    if (!this.starting) {
      this.opts.onState?.('starting', null, this.client ? 'restarting the engine after it stopped' : null);
      this.starting = EngineClient.fork({ ...this.opts.fork, jobModules: this.opts.jobModules ?? [] })
        .then((c) => {
          this.client = c;
          this.opts.onState?.('ready', c.pid ?? null, null);
          return c;
        })
        .finally(() => {
          this.starting = null;
        });
    }
    return this.starting;
  }

  async run(job: Readonly<JobRecord>, ctx: JobRunContext): Promise<JobRunResult> {
    const c = await this.engine();
    const envelope: EngineJobEnvelope = { ...(this.opts.extraParams?.() ?? {}), jobId: job.id, workDir: ctx.workDir, attempt: job.attempts, params: job.params };
    this.opts.onState?.('busy', c.pid ?? null, null);
    try {
      const value = await c.call<unknown>(this.opts.engineJob(job.kind), envelope, {
        signal: ctx.signal,
        onProgress: (p) => {
          const m = decodeProgressMessage(p.message);
          // total 0: a preview-only event, which must not reset the job's progress.
          if (p.total > 0) ctx.progress({ done: p.done, total: p.total, ...(m.text !== undefined ? { message: m.text } : {}) });
          if (m.preview) ctx.preview(m.preview);
        },
      });
      const v = (typeof value === 'object' && value !== null ? value : {}) as { output?: unknown };
      return { output: typeof v.output === 'string' ? v.output : null, result: value };
    } catch (e) {
      if ((e as Error).name === 'EngineDiedError') this.opts.onState?.('crashed', null, (e as Error).message);
      throw e;
    } finally {
      if (c.running) this.opts.onState?.('ready', c.pid ?? null, null);
    }
  }

  /** Runs a short engine job outside the queue (device probe); waits behind a running job. */
  async call<T>(engineJob: string, params: unknown): Promise<T> {
    return (await this.engine()).call<T>(engineJob, params);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const c = this.client ?? (await this.starting?.catch(() => null)) ?? null;
    if (c?.running) await c.close(2000);
    this.opts.onState?.('stopped', null, null);
  }
}
