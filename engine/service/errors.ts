// Errors as they cross the service boundary (Electron IPC, HTTP, WebSocket): a stable `code` that a
// renderer can branch on, and a `message` that is a sentence a person can read and act on. Plain data
// only, so both transports carry it unchanged. No Node imports: the renderer imports these types.
import type { z } from 'zod';

// ServiceError and its codes live in engine/common so that engine/jobs can throw them too.
export { ERROR_CODES, isErrorInfo, ServiceError } from '../common/service-error.js';
export type { ErrorCode, ErrorInfo } from '../common/service-error.js';
import { ServiceError } from '../common/service-error.js';
import type { ErrorCode, ErrorInfo } from '../common/service-error.js';

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
