// Streamed SHA-256 of weight files. A Wan2.2 download is ~20-35 GB, so files are never read whole:
// each is hashed in 8 MiB chunks, with a callback after every chunk so the CLI can draw progress.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';

const CHUNK = 8 << 20;

export interface HashProgress {
  /** Bytes hashed so far over the whole batch. */
  done: number;
  /** Bytes of the whole batch. */
  total: number;
  /** The file being hashed now. */
  file: string;
}

export type ProgressFn = (p: HashProgress) => void;

/** SHA-256 (hex) and size of one file; `onBytes(n)` is called with each chunk's length. */
export async function hashFile(file: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const fh = await open(file, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      h.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      bytes += bytesRead;
      onBytes?.(bytesRead);
    }
    return { sha256: h.digest('hex'), bytes };
  } finally {
    await fh.close();
  }
}

/** Hashes several files in order, reporting progress over their total size. */
export async function hashFiles(files: readonly string[], onProgress?: ProgressFn, signal?: AbortSignal): Promise<Map<string, { sha256: string; bytes: number }>> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const out = new Map<string, { sha256: string; bytes: number }>();
  for (const f of files) {
    onProgress?.({ done, total, file: f });
    out.set(
      f,
      await hashFile(
        f,
        (n) => {
          done += n;
          onProgress?.({ done, total, file: f });
        },
        signal,
      ),
    );
  }
  return out;
}
