// Sessions are expensive to open (seconds for a DiT) and each one holds its own copy of its weights,
// so they are cached per (graph hash, backend, shape bucket) with a least-recently-used limit on
// both the count and the bytes of weights held; evicted sessions are released at once, which is what
// keeps GPU memory planned rather than hoped for (DESIGN 2).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ModelSource, OpenOptions, PreparedModel } from './backends.js';
import { firstUsableBackend, openSession, prepareModel } from './backends.js';
import { externalRefs, readModelProto } from './model-file.js';
import type { Backend, CompiledGraph } from './session.js';

export interface CacheKey {
  graphHash: string;
  backend: Backend;
  /** Shape bucket, e.g. "f21x480x480"; '' when the graph has one shape. */
  bucket: string;
}

export const keyString = (k: CacheKey): string => `${k.graphHash}|${k.backend}|${k.bucket}`;

/** sha-256 of serialized model bytes. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * sha-256 of an .onnx file plus the path, size and mtime of each external data file: hashing many
 * GB of weights on every open would cost more than the session itself.
 */
export function hashModelFile(modelPath: string): string {
  const h = createHash('sha256').update(readFileSync(modelPath));
  const files = [...new Set(externalRefs(readModelProto(modelPath), modelPath).map((r) => r.file))].sort();
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    h.update(`\n${f}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}`);
  }
  return h.digest('hex');
}

export interface CachedSession {
  session: CompiledGraph;
  /** The backend that runs it (may differ from the key's backend after a fallback while opening). */
  backend: Backend;
  skipped: string[];
  bytes: number;
}

export interface SessionCacheOptions {
  /** Sessions kept alive at most (default 4). */
  maxEntries?: number;
  /** Bytes of model + weights kept alive at most (default unlimited). A single larger model is still opened. */
  maxBytes?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
}

export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly pending = new Map<string, Promise<CachedSession>>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(opts: SessionCacheOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 4);
    this.maxBytes = opts.maxBytes ?? Infinity;
  }

  /**
   * The cached session for `key`, or the one `open` creates (`bytes`: what it will hold). A session from the cache is valid until
   * a later call evicts it; the engine process runs one job at a time, so that never races a run.
   */
  async get(key: CacheKey, bytes: number, open: () => Promise<CachedSession>): Promise<CachedSession> {
    const k = keyString(key);
    const hit = this.entries.get(k);
    if (hit) {
      this.hits++;
      // Re-insert to mark it most recently used (Map keeps insertion order).
      this.entries.delete(k);
      this.entries.set(k, hit);
      return hit;
    }
    const inflight = this.pending.get(k);
    if (inflight) {
      this.hits++;
      return inflight;
    }
    this.misses++;
    const p = (async () => {
      // Make room before opening, so the new session's weights never coexist with more than the
      // budget allows (a GPU holds one DiT's weights, not two).
      await this.evictUntil(bytes);
      const entry = await open();
      this.entries.set(k, entry);
      return entry;
    })();
    this.pending.set(k, p);
    try {
      return await p;
    } finally {
      this.pending.delete(k);
    }
  }

  /**
   * Opens (or reuses) a session for a model: the key's backend is the first backend that passes its
   * probe in the preferred order, so `prefer: 'cpu'` and an automatic choice that lands on cpu share
   * one session.
   */
  async open(model: ModelSource, opts: OpenOptions & { bucket?: string } = {}): Promise<CachedSession> {
    const prepared: PreparedModel = prepareModel(model, opts);
    const graphHash = typeof prepared.source === 'string' ? hashModelFile(prepared.source) : hashBytes(prepared.source);
    const { backend: first, skipped } = await firstUsableBackend({ prefer: opts.prefer ?? opts.backend, fallback: opts.fallback });
    if (!first) throw new Error(`no backend available: ${skipped.join('; ')}`);
    return this.get({ graphHash, backend: first, bucket: opts.bucket ?? '' }, prepared.bytes, async () => {
      const o = await openSession(prepared, opts);
      return { session: o.session, backend: o.backend, skipped: o.skipped, bytes: prepared.bytes };
    });
  }

  has(key: CacheKey): boolean {
    return this.entries.has(keyString(key));
  }

  stats(): CacheStats {
    let bytes = 0;
    for (const e of this.entries.values()) bytes += e.bytes;
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, entries: this.entries.size, bytes };
  }

  private async evictUntil(incoming: number): Promise<void> {
    let bytes = 0;
    for (const e of this.entries.values()) bytes += e.bytes;
    while (this.entries.size > 0 && (this.entries.size + 1 > this.maxEntries || bytes + incoming > this.maxBytes)) {
      const [k, e] = this.entries.entries().next().value as [string, CachedSession];
      this.entries.delete(k);
      bytes -= e.bytes;
      this.evictions++;
      await e.session.release();
    }
  }

  /** Releases every session (before opening a model whose weights must not coexist with these). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) await e.session.release();
  }
}
