// How the farm reaches Redis: the URL, password and TLS of the farm settings turned into the options
// BullMQ's ioredis clients take, and a connection test that answers with one sentence a person can act
// on (nothing answers there, the password is wrong, Redis wants a password, the name does not resolve).
// Every farm entry point (worker, submit, the studio's Test connection) runs the test first, so a bad
// setting stops before anything is queued or run.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';

export interface FarmConnection {
  /** redis://host:port[/db] or rediss://… (TLS). A password in the URL is used unless `password` is given. */
  url: string;
  password?: string | null;
  /** Use TLS even when the URL says redis:// (rediss:// always does). */
  tls?: boolean;
}

export class FarmConnectionError extends Error {
  override name = 'FarmConnectionError';
}

export interface ParsedRedisUrl {
  host: string;
  port: number;
  db: number;
  username: string | null;
  password: string | null;
  tls: boolean;
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `redis://${url}`);
  } catch {
    throw new FarmConnectionError(`"${url}" is not a Redis address; write it as redis://host:6379 (or rediss://host:6380 for TLS).`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new FarmConnectionError(`"${url}" is not a Redis address (it starts with ${u.protocol}//); write it as redis://host:6379 (or rediss://host:6380 for TLS).`);
  if (!u.hostname) throw new FarmConnectionError(`"${url}" names no host; write it as redis://host:6379.`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText ? Number(dbText) : 0;
  if (!Number.isInteger(db) || db < 0) throw new FarmConnectionError(`"${url}" names database "${dbText}"; a Redis database is a number (redis://host:6379/0).`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    username: u.username ? decodeURIComponent(u.username) : null,
    password: u.password ? decodeURIComponent(u.password) : null,
    tls: u.protocol === 'rediss:',
  };
}

/** Where the address points, without any password (for messages). */
export function describeAddress(conn: FarmConnection): string {
  try {
    const p = parseRedisUrl(conn.url);
    return `${p.tls || conn.tls ? 'rediss' : 'redis'}://${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}${p.db ? `/${p.db}` : ''}`;
  } catch {
    return conn.url;
  }
}

/**
 * ioredis options for BullMQ. `maxRetriesPerRequest: null` is what BullMQ's workers need: a command
 * waits through a Redis restart instead of failing, and the clients reconnect on their own.
 */
export function redisOptions(conn: FarmConnection): BullRedisOptions {
  const p = parseRedisUrl(conn.url);
  const password = conn.password ? conn.password : p.password;
  return {
    host: p.host,
    port: p.port,
    db: p.db,
    ...(p.username ? { username: p.username } : {}),
    ...(password ? { password } : {}),
    ...(p.tls || conn.tls ? { tls: { servername: p.host } } : {}),
    maxRetriesPerRequest: null,
    // Reconnect quickly while Redis restarts (at most every 2 s), forever.
    retryStrategy: (times: number) => Math.min(2000, 100 * times),
  };
}

/** One sentence for a failed connection or command, naming the address and what to do. */
export function explainRedisError(e: unknown, conn: FarmConnection): string {
  const where = describeAddress(conn);
  const err = e as NodeJS.ErrnoException & { message?: string };
  const msg = String(err?.message ?? e);
  const code = err?.code ?? '';
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) return `Redis at ${where} refused the password: check the farm's Redis password (and user name, if the URL has one).`;
  if (/NOAUTH|Authentication required/i.test(msg)) return `Redis at ${where} requires a password and none was given: enter the farm's Redis password.`;
  if (/without any password configured|AUTH.*no password is set/i.test(msg)) return `Redis at ${where} has no password set, but one was given: leave the password empty.`;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)) return `Nothing answers at ${where} (connection refused): start Redis there, or correct the farm's Redis URL.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg)) return `The host in ${where} cannot be found: check the name in the farm's Redis URL.`;
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) return `Redis at ${where} did not answer in time: check that the host is reachable from this machine (firewall, VPN) and the port is right.`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `The network cannot reach ${where}: check that this machine is on the farm's network.`;
  if (/SSL|TLS|certificate|EPROTO|wrong version number/i.test(msg)) return `The TLS connection to ${where} failed (${msg}): turn TLS on only when the Redis server uses it, and check its certificate.`;
  return `Redis at ${where} could not be used: ${msg}`;
}

export interface ConnectionReport {
  address: string;
  /** Redis's version, from INFO server. */
  version: string;
  /** Round trip of one PING, milliseconds. */
  pingMs: number;
}

/**
 * Connects once, authenticates, PINGs and reads the server version; never retries. Throws a
 * FarmConnectionError with the sentence from explainRedisError.
 */
export async function testConnection(conn: FarmConnection, timeoutMs = 5000): Promise<ConnectionReport> {
  let opts: RedisOptions;
  try {
    opts = redisOptions(conn) as RedisOptions;
  } catch (e) {
    throw e instanceof FarmConnectionError ? e : new FarmConnectionError(String((e as Error).message));
  }
  const client = new Redis({ ...opts, lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let lastError: unknown = null;
  client.on('error', (e) => (lastError = e));
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = (async () => {
      await client.connect();
      const t0 = performance.now();
      await client.ping();
      const pingMs = performance.now() - t0;
      const info = await client.info('server');
      const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
      return { address: describeAddress(conn), version, pingMs: +pingMs.toFixed(2) };
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs + 500);
    });
    return await Promise.race([work, timeout]);
  } catch (e) {
    // ioredis reports a refused connection as "Connection is closed." and the cause through 'error'.
    const cause = /Connection is closed/i.test((e as Error).message) && lastError ? lastError : e;
    throw new FarmConnectionError(explainRedisError(cause, conn));
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
