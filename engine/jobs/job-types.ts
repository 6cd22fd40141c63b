// A job as it is stored (one JSON file per job, DESIGN 11) and as the renderer sees it. Plain data, no
// Node imports: the service contract and the renderer import these types.

export const JOB_KINDS = ['preview', 'export', 'training'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobProgress {
  done: number;
  total: number;
  message?: string;
  /** Seconds left, estimated from this run's rate; null until two progress events have arrived. */
  etaSeconds: number | null;
}

export interface JobHistoryEntry {
  at: string;
  /** One sentence: "started (attempt 2)", "the engine process was killed by signal SIGKILL; resuming from the last checkpoint". */
  message: string;
}

export interface JobRecord {
  /** File-name safe: [a-z0-9-]. */
  id: string;
  kind: JobKind;
  title: string;
  state: JobState;
  /** Position in the queue; lower runs first. Reorder rewrites these. */
  order: number;
  /** What the runner needs (project snapshot, settings, output path). */
  params: unknown;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress | null;
  /** Times the job has been started (a resume after a crash or restart counts). */
  attempts: number;
  /** Automatic recoveries after the engine process died mid-job. */
  recoveries: number;
  /** The finished file (export/preview video), when there is one. */
  output: string | null;
  /** Whatever the runner returned (plain data). */
  result: unknown;
  /** Why it failed or was stopped, one sentence. */
  error: { code: string; message: string } | null;
  /** The latest preview frame written by the runner (a file), if any. */
  preview: string | null;
  /** Most recent last; bounded. */
  history: JobHistoryEntry[];
}
