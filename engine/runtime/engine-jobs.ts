// What a job running inside the engine process sees. ORT's run() blocks the process's only thread,
// so a job reports progress and calls checkpoint() between runs; that is where a cancel request
// (which can only be read off the IPC channel while the thread is free) takes effect.
import { CancelledError } from '../common/engine-errors.js';

export interface JobContext {
  /** Sends a progress event to the host (cheap; does not yield). */
  progress(done: number, total: number, message?: string): void;
  /** Lets pending host messages in, then throws CancelledError if this job was cancelled. */
  checkpoint(): Promise<void>;
  readonly cancelled: boolean;
}

/** A job handler; `params` come from the host as plain data and must be validated here. */
export type JobHandler = (params: unknown, ctx: JobContext) => Promise<unknown>;

/** A module that contributes jobs to the engine process exports `jobs`. */
export type JobTable = Record<string, JobHandler>;

/** One turn of the event loop: IPC messages are read in the poll phase, before setImmediate runs. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function makeContext(send: (done: number, total: number, message?: string) => void, isCancelled: () => boolean, jobName: string): JobContext {
  return {
    progress: send,
    async checkpoint() {
      await yieldToEventLoop();
      if (isCancelled()) throw new CancelledError(`${jobName} was cancelled`);
    },
    get cancelled() {
      return isCancelled();
    },
  };
}
