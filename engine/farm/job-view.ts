// A farm job as people see it (the queue screen, `refree farm submit --json`): BullMQ's states mapped
// onto the local queue's words (queued, running, paused, done, failed, cancelled), with the worker that
// runs or ran it. Plain data and no Node imports: the service contract and the renderer use the type.

export const FARM_JOB_STATES = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'] as const;
export type FarmJobState = (typeof FARM_JOB_STATES)[number];

export interface FarmJobView {
  id: string;
  title: string;
  state: FarmJobState;
  /** The worker (its --name) that runs it, or ran it last; null before any has taken it. */
  worker: string | null;
  progress: { done: number; total: number; message: string | null } | null;
  /** Times a worker started it (a resume after a stall counts). */
  attempts: number;
  /** Failed attempts so far; the third parks it as failed. */
  failures: number;
  /** Times it was taken back from a worker that stopped answering (killed, disconnected). */
  stalls: number;
  /** Why it failed or what happened last, one sentence. */
  error: string | null;
  /** Output path relative to the shared folder. */
  output: string;
  /** What the worker returned when it finished (frames, digest, payload). */
  result: FarmJobResult | null;
  /** BullMQ priority: lower runs first. */
  priority: number;
  submittedFrom: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface FarmJobResult {
  /** Relative to the shared folder. */
  output: string;
  worker: string;
  frames: number;
  frameDigest: string;
  /** The invisible watermark's payload (hex), as `refree verify` reads it. */
  payload: string;
  resumedChunks: number;
  chunks: number;
  /** Seconds the pipeline took on the last attempt. */
  seconds: number;
}

export const CANCELLED_MESSAGE = 'The job was cancelled.';
