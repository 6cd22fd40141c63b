// The error every layer throws when a call across the service boundary should fail with a stable
// `code` and a sentence a person can act on. It lives here, below engine/jobs and engine/service, so
// that the job queue can throw it without importing the service (engine/service/errors.ts re-exports
// it with the zod helpers). No Node imports: the renderer imports these types.

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
