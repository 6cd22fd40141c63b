// Options every `refree farm` subcommand shares: where Redis is (--redis, --password, --tls) and the
// shared folder (--shared). The password may come from REFREE_FARM_PASSWORD instead, so it does not
// show in the process list.
import type { FarmConnection } from '../farm/connection.js';
import type { OptionSpec } from './command.js';
import { UsageError } from './command.js';

export const CONNECTION_OPTIONS: OptionSpec = {
  redis: { type: 'string' },
  password: { type: 'string' },
  tls: { type: 'boolean' },
  shared: { type: 'string' },
};

export const CONNECTION_HELP = `  --redis <url>      the farm's Redis: redis://host:6379 (rediss://… for TLS)
  --password <p>     Redis password (or set REFREE_FARM_PASSWORD, which keeps it out of the process list)
  --tls              connect with TLS even though the URL says redis://
  --shared <dir>     where this machine mounts the folder every farm machine shares`;

export function connectionFrom(values: Record<string, unknown>): FarmConnection {
  const url = values.redis;
  if (typeof url !== 'string' || url.trim() === '') throw new UsageError('--redis <url> is required (for example --redis redis://farm-host:6379)');
  const password = typeof values.password === 'string' ? values.password : (process.env.REFREE_FARM_PASSWORD ?? null);
  return { url: url.trim(), password: password || null, tls: values.tls === true };
}

export function sharedFrom(values: Record<string, unknown>): string {
  const s = values.shared;
  if (typeof s !== 'string' || s.trim() === '') throw new UsageError('--shared <dir> is required: the folder every farm machine mounts, where inputs and outputs live');
  return s;
}

export function numberOption(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'}, got "${String(v)}"`);
  return n;
}
