// What the queue needs from whatever does the work. The queue decides WHEN a job runs and records
// what happened; a runner does the work (normally in the engine process, engine-runner.ts). Keeping
// this small lets the queue be tested with a real small engine job before the pipeline exists.
import type { JobRecord } from './job-types.js';

export interface JobRunContext {
  /** Aborted when the job is paused or cancelled (the runner stops at its next checkpoint). */
  signal: AbortSignal;
  /**
   * The job's own folder. A runner keeps its checkpoints here (finished chunks, last step); after a
   * crash or restart the same folder is handed back, so the work resumes where it stopped.
   */
  workDir: string;
  progress(p: { done: number; total: number; message?: string }): void;
  /** A new preview frame (an image file). */
  preview(file: string): void;
}

export interface JobRunResult {
  output?: string | null;
  result?: unknown;
}

export interface JobRunner {
  /**
   * Runs (or resumes) a job. Rejects with an error named 'CancelledError' when `signal` stopped it, and
   * with one named 'EngineDiedError' when the process doing the work died: the queue then resumes the
   * job automatically (a bounded number of times). Any other rejection fails the job.
   */
  run(job: Readonly<JobRecord>, ctx: JobRunContext): Promise<JobRunResult>;
  /** Stops whatever the runner holds (the engine process). */
  dispose?(): Promise<void>;
}

export const isCancel = (e: unknown): boolean => e instanceof Error && e.name === 'CancelledError';
export const isEngineDeath = (e: unknown): boolean => e instanceof Error && e.name === 'EngineDiedError';
