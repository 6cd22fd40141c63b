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

/** The fields only running a job fills, at their values before it has ever run. */
export function notYetRun(): Pick<JobRecord, 'startedAt' | 'finishedAt' | 'progress' | 'attempts' | 'recoveries' | 'output' | 'result' | 'error' | 'preview' | 'history'> {
  return { startedAt: null, finishedAt: null, progress: null, attempts: 0, recoveries: 0, output: null, result: null, error: null, preview: null, history: [] };
}

/** A new job record (the local queue's and a farm worker's): what it is, nothing run yet. */
export function newJobRecord(o: Pick<JobRecord, 'id' | 'kind' | 'title' | 'state' | 'order' | 'params'> & { createdAt?: string }): JobRecord {
  const now = new Date().toISOString();
  return { id: o.id, kind: o.kind, title: o.title, state: o.state, order: o.order, params: o.params, createdAt: o.createdAt ?? now, updatedAt: now, ...notYetRun() };
}
