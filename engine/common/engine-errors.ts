// Errors a host sees from engine calls. Each message is a sentence a person can act on; the class
// says what happened so callers can branch (a cancel is not a failure; a dead engine can be restarted).
import type { EngineErrorInfo } from './engine-protocol.js';

/** The job stopped because a cancel request arrived (between two runs). */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** The job failed inside the engine; `engineStack` is the stack trace from the engine process. */
export class EngineJobError extends Error {
  override name = 'EngineJobError';
  constructor(
    message: string,
    readonly engineErrorName: string,
    readonly engineStack?: string,
  ) {
    super(message);
  }
}

/** The engine process exited or was killed while calls were pending (or before it was ready). */
export class EngineDiedError extends Error {
  override name = 'EngineDiedError';
}

export function toErrorInfo(e: unknown): EngineErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: 'Error', message: String(e) };
}

export function fromErrorInfo(info: EngineErrorInfo): Error {
  if (info.name === 'CancelledError') return new CancelledError(info.message);
  return new EngineJobError(info.message, info.name, info.stack);
}
