// Errors as they cross the service boundary (Electron IPC, HTTP, WebSocket): a stable `code` that a
// renderer can branch on, and a `message` that is a sentence a person can read and act on. Plain data
// only, so both transports carry it unchanged. No Node imports: the renderer imports these types.
import type { z } from 'zod';

export const ERROR_CODES = [
  'bad-input', // the call's parameters failed validation
  'unknown-method',
  'not-found', // a project, job, media file or model package that does not exist
  'conflict', // the thing exists but is in the wrong state for this action (e.g. retry a running job)
  'not-available', // a feature that this build does not provide yet (training)
  'unauthorized', // web host: missing or wrong token
  'forbidden', // web host: bad Host header, path outside the allowed roots
  'engine', // the engine process failed or died
  'internal', // anything else: a bug; the message still says what was being done
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What every failed call returns: `{code, message}`; `message` is for people. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

export function isErrorInfo(v: unknown): v is ErrorInfo {
  return typeof v === 'object' && v !== null && typeof (v as ErrorInfo).message === 'string' && (ERROR_CODES as readonly string[]).includes((v as ErrorInfo).code);
}

/** Turns a zod failure into one sentence naming each bad field: "params.name: Too small: expected ..." */
export function describeZodError(err: z.ZodError, what: string): string {
  const parts = err.issues.slice(0, 5).map((i) => {
    const where = i.path.length ? i.path.map(String).join('.') : '(the whole value)';
    return `${where}: ${i.message}`;
  });
  const more = err.issues.length > 5 ? `; and ${err.issues.length - 5} more problem(s)` : '';
  return `${what} is not valid — ${parts.join('; ')}${more}.`;
}

/** Any thrown value → ErrorInfo; `doing` names the action, so even an unexpected error reads as a sentence. */
export function toServiceErrorInfo(e: unknown, doing: string): ErrorInfo {
  if (e instanceof ServiceError) return e.toInfo();
  if (e instanceof Error) {
    const code: ErrorCode = e.name === 'EngineDiedError' || e.name === 'EngineJobError' ? 'engine' : 'internal';
    const nf = (e as { code?: unknown }).code === 'ENOENT';
    return { code: nf ? 'not-found' : code, message: `${doing} failed: ${e.message}` };
  }
  return { code: 'internal', message: `${doing} failed: ${String(e)}` };
}
