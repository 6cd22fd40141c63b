// Errors as they cross the service boundary (Electron IPC, HTTP, WebSocket): a stable `code` that a
// renderer can branch on, and a `message` that is a sentence a person can read and act on. Plain data
// only, so both transports carry it unchanged. The renderer imports only types from here (fs-errors.ts
// uses node:path, which a type import does not pull in).
import type { z } from 'zod';
import { fsErrorSentence } from '../common/fs-errors.js';

// ServiceError and its codes live in engine/common so that engine/jobs can throw them too.
export { ERROR_CODES, isErrorInfo, ServiceError } from '../common/service-error.js';
export type { ErrorCode, ErrorInfo } from '../common/service-error.js';
import { ServiceError } from '../common/service-error.js';
import type { ErrorCode, ErrorInfo } from '../common/service-error.js';

/** Field names as the studio's forms label them (the last path segments that matter). */
const FIELD_LABELS: Record<string, string> = {
  steps: 'Steps',
  seed: 'Seed',
  guidance: 'Guidance',
  width: 'Width',
  height: 'Height',
  fps: 'Frames per second',
  sampler: 'Sampler',
  model: 'Model',
  outputFolder: 'Output folder',
  backend: 'Backend',
  theme: 'Theme',
  'watermark.text': 'Watermark text',
  'watermark.position': 'Watermark position',
  'watermark.visible': 'Visible label',
  'crop.size': 'Crop size',
  'trim.start': 'Trim start',
  'trim.end': 'Trim end',
  name: 'Name',
  path: 'Path',
  project: 'Project',
  output: 'Output file',
  folder: 'Folder',
};

/** "project.settings.steps" → "Steps"; unknown paths stay as they are, minus the wrapping object. */
export function fieldLabel(pathParts: readonly PropertyKey[]): string {
  const parts = pathParts.map(String).filter((p) => p !== 'project' || pathParts.length === 1);
  for (const n of [2, 1]) {
    const key = parts.slice(-n).join('.');
    if (FIELD_LABELS[key]) return FIELD_LABELS[key];
  }
  return parts.join('.') || 'the input';
}

/** zod's default messages → plain words ("must be at least 1"); custom messages pass through. */
function plainMessage(i: z.core.$ZodIssue): string {
  const m = i.message;
  let r: RegExpMatchArray | null;
  if ((r = m.match(/^Too small: expected \w+ to (?:be|have) >(=?)(\d+(?:\.\d+)?)( characters| items)?$/))) return r[3] ? (r[2] === '1' ? 'must not be empty' : `needs at least ${r[2]}${r[3]}`) : `must be ${r[1] ? 'at least' : 'more than'} ${r[2]}`;
  if ((r = m.match(/^Too big: expected \w+ to (?:be|have) <(=?)(\d+(?:\.\d+)?)( characters| items)?$/))) return r[3] ? `must have at most ${r[2]}${r[3]}` : `must be ${r[1] ? 'at most' : 'less than'} ${r[2]}`;
  if ((r = m.match(/^Invalid input: expected (\w+), received (\w+)$/))) return r[2] === 'undefined' ? 'is required' : `must be a ${r[1] === 'int' ? 'whole number' : r[1]} (got a ${r[2]})`;
  if ((r = m.match(/^Invalid option: expected one of (.+)$/))) return `must be one of ${r[1]!.split('|').join(', ')}`;
  if (/^Invalid input: expected int/.test(m)) return 'must be a whole number';
  if ((r = m.match(/^Unrecognized keys?: (.+)$/))) return `has unknown field(s) ${r[1]}`;
  return m;
}

/** Turns a zod failure into one sentence naming each bad field: "… is not valid — Steps: must be at least 1." */
export function describeZodError(err: z.ZodError, what: string): string {
  const parts = err.issues.slice(0, 5).map((i) => {
    const label = i.path.length ? fieldLabel(i.path) : '(the whole value)';
    return `${label}: ${plainMessage(i)}`;
  });
  const more = err.issues.length > 5 ? `; and ${err.issues.length - 5} more problem(s)` : '';
  return `${what} is not valid — ${parts.join('; ')}${more}.`;
}

/** Any thrown value → ErrorInfo; `doing` names the action, so even an unexpected error reads as a sentence. */
export function toServiceErrorInfo(e: unknown, doing: string): ErrorInfo {
  if (e instanceof ServiceError) return e.toInfo();
  const fs = fsErrorSentence(e);
  if (fs) {
    const code = (e as { code: string }).code;
    return { code: code === 'ENOENT' ? 'not-found' : code === 'EEXIST' ? 'conflict' : 'bad-input', message: fs };
  }
  if (e instanceof Error) {
    const code: ErrorCode = e.name === 'EngineDiedError' || e.name === 'EngineJobError' ? 'engine' : 'internal';
    return { code, message: `${doing} failed: ${e.message}` };
  }
  return { code: 'internal', message: `${doing} failed: ${String(e)}` };
}
