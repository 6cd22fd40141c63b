// The host side of the engine process: numbered requests, progress callbacks, cancel through an
// AbortSignal, and, when the process dies, every pending call rejected with a sentence that says how
// it died (never a hang).
import { CancelledError, EngineDiedError, fromErrorInfo } from '../common/engine-errors.js';
import type { EngineMessage, Progress } from '../common/engine-protocol.js';
import { isEngineMessage } from '../common/engine-protocol.js';
import type { EngineTransport, ExitInfo, ForkOptions } from './transport.js';
import { forkTransport } from './transport.js';

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  /** Aborting sends a cancel; the call then rejects with CancelledError once the engine stops the job. */
  signal?: AbortSignal;
}

interface Pending {
  job: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress: ((p: Progress) => void) | undefined;
  cleanup: () => void;
}

export interface StartOptions {
  /** How long to wait for the engine's 'ready' message (default 60 s: first start compiles TypeScript). */
  readyTimeoutMs?: number;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitInfo: ExitInfo | null = null;
  private readonly exitWaiters: (() => void)[] = [];

  private constructor(
    private readonly transport: EngineTransport,
    /** The jobs this engine knows. */
    readonly jobs: readonly string[],
  ) {}

  /** Forks the engine (child_process) and waits until it is ready. */
  static fork(opts: ForkOptions & StartOptions = {}): Promise<EngineClient> {
    return EngineClient.start(forkTransport(opts), opts);
  }

  /** Waits for the engine behind `transport` to say it is ready. */
  static start(transport: EngineTransport, opts: StartOptions = {}): Promise<EngineClient> {
    return new Promise((resolve, reject) => {
      let client: EngineClient | null = null;
      const timer = setTimeout(() => {
        transport.kill('SIGKILL');
        reject(new EngineDiedError(`the engine process did not start within ${Math.round((opts.readyTimeoutMs ?? 60_000) / 1000)} s${tailNote(transport)}`));
      }, opts.readyTimeoutMs ?? 60_000);
      transport.onMessage((msg) => {
        if (!isEngineMessage(msg)) return;
        if (msg.type === 'ready' && !client) {
          clearTimeout(timer);
          client = new EngineClient(transport, msg.jobs);
          resolve(client);
        } else client?.onMessage(msg);
      });
      transport.onExit((info) => {
        clearTimeout(timer);
        if (client) client.onExit(info);
        else reject(new EngineDiedError(`the engine process ${info.reason} before it was ready${tailNote(transport)}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /** Runs a job in the engine; resolves with its result. */
  call<T = unknown>(job: string, params: unknown = {}, opts: CallOptions = {}): Promise<T> {
    if (this.exitInfo) return Promise.reject(new EngineDiedError(`the engine process ${this.exitInfo.reason}; start a new one to run ${job}`));
    if (opts.signal?.aborted) return Promise.reject(new CancelledError(`${job} was cancelled before it started`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.pending.has(id) && !this.exitInfo) this.transport.send({ type: 'cancel', id });
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        job,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: opts.onProgress,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      });
      try {
        this.transport.send({ type: 'request', id, job, params });
      } catch (e) {
        this.settle(id)?.reject(new EngineDiedError(`could not send ${job} to the engine process: ${(e as Error).message}`));
      }
    });
  }

  /** Asks the engine to exit after its current job; kills it if it has not exited after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    if (this.exitInfo) return;
    const gone = new Promise<void>((r) => this.exitWaiters.push(r));
    try {
      this.transport.send({ type: 'shutdown' });
    } catch {
      /* already disconnected: the exit event follows */
    }
    const timer = setTimeout(() => this.transport.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Kills the engine at once (pending calls reject with EngineDiedError). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.transport.kill(signal);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      p.cleanup();
    }
    return p;
  }

  private onMessage(msg: EngineMessage): void {
    if (msg.type === 'progress') {
      const p = this.pending.get(msg.id);
      p?.onProgress?.({ done: msg.done, total: msg.total, ...(msg.message !== undefined ? { message: msg.message } : {}) });
    } else if (msg.type === 'result') this.settle(msg.id)?.resolve(msg.value);
    else if (msg.type === 'error') this.settle(msg.id)?.reject(fromErrorInfo(msg.error));
  }

  private onExit(info: ExitInfo): void {
    this.exitInfo = info;
    const tail = tailNote(this.transport);
    for (const id of [...this.pending.keys()]) {
      const p = this.settle(id)!;
      p.reject(new EngineDiedError(`the engine process ${info.reason} while running ${p.job}${tail}`));
    }
    for (const w of this.exitWaiters.splice(0)) w();
  }
}

function tailNote(t: EngineTransport): string {
  const tail = t.outputTail();
  return tail ? `; its output says: ${tail}` : '';
}
