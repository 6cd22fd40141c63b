// The messages between a host (CLI, web host, Electron main) and the engine process. Plain data only,
// so the same protocol travels over child_process IPC ('advanced' serialization) and over Electron's
// utilityProcess MessagePort (structured clone). No Node or Electron imports here: hosts of any kind
// import these types.

/** Host → engine. */
export type HostMessage =
  | { type: 'request'; id: number; job: string; params: unknown }
  /** Honoured between runs (one sampling step, one training step): ORT's run() cannot be interrupted. */
  | { type: 'cancel'; id: number }
  | { type: 'shutdown' };

/** Engine → host. */
export type EngineMessage =
  | { type: 'ready'; pid: number; jobs: string[] }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: EngineErrorInfo };

/** An error as it crosses the process boundary: `message` is a sentence a person can act on. */
export interface EngineErrorInfo {
  /** 'CancelledError' when a cancel request stopped the job; otherwise the thrown error's name. */
  name: string;
  message: string;
  stack?: string;
}

export interface Progress {
  done: number;
  total: number;
  message?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function isHostMessage(v: unknown): v is HostMessage {
  if (!isObject(v)) return false;
  switch (v.type) {
    case 'request':
      return typeof v.id === 'number' && typeof v.job === 'string';
    case 'cancel':
      return typeof v.id === 'number';
    case 'shutdown':
      return true;
    default:
      return false;
  }
}

export function isEngineMessage(v: unknown): v is EngineMessage {
  if (!isObject(v)) return false;
  switch (v.type) {
    case 'ready':
      return typeof v.pid === 'number' && Array.isArray(v.jobs);
    case 'progress':
      return typeof v.id === 'number' && typeof v.done === 'number' && typeof v.total === 'number';
    case 'result':
      return typeof v.id === 'number';
    case 'error':
      return typeof v.id === 'number' && isObject(v.error) && typeof v.error.message === 'string';
    default:
      return false;
  }
}
