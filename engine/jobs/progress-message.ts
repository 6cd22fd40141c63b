// The engine protocol's progress event carries one optional string. Queue jobs also need to say "a new
// preview frame is at <file>", so an engine job may send a small JSON object in that string, marked by
// a prefix; a plain string stays a plain message. No Node imports (used on both sides).
const PREFIX = '\u0001refree:';

export interface ProgressMessage {
  text?: string;
  /** Absolute path of a preview frame just written. */
  preview?: string;
}

export function encodeProgressMessage(m: ProgressMessage): string {
  return PREFIX + JSON.stringify(m);
}

export function decodeProgressMessage(s: string | undefined): ProgressMessage {
  if (s === undefined) return {};
  if (!s.startsWith(PREFIX)) return { text: s };
  try {
    const o = JSON.parse(s.slice(PREFIX.length)) as Record<string, unknown>;
    return { ...(typeof o.text === 'string' ? { text: o.text } : {}), ...(typeof o.preview === 'string' ? { preview: o.preview } : {}) };
  } catch {
    return {};
  }
}
