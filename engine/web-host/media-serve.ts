// Serves one file with HTTP Range support, so <video> and <audio> can seek: `Range: bytes=a-b`,
// `bytes=a-` and `bytes=-n` answer 206 with Content-Range; a range outside the file, or a malformed
// one, answers 416 with `Content-Range: bytes */<size>`. Several ranges at once (never sent by media
// elements) get the whole file, which RFC 9110 allows.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.flac': 'audio/flac',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type RangeResult = { kind: 'full' } | { kind: 'range'; start: number; end: number } | { kind: 'bad' };

/** Parses a Range header against a file of `size` bytes (end inclusive). */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'full' }; // another unit: ignore the header
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length > 1) return specs.every((s) => /^(\d+-\d*|-\d+)$/.test(s)) ? { kind: 'full' } : { kind: 'bad' };
  const one = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!one || (one[1] === '' && one[2] === '')) return { kind: 'bad' };
  if (one[1] === '') {
    const n = Number(one[2]);
    if (n === 0 || size === 0) return { kind: 'bad' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(one[1]);
  const end = one[2] === '' ? size - 1 : Math.min(Number(one[2]), size - 1);
  if (start >= size || end < start) return { kind: 'bad' };
  return { kind: 'range', start, end };
}

export async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, extraHeaders: Record<string, string> = {}): Promise<void> {
  const st = await stat(file);
  const size = st.size;
  const common = { 'Content-Type': contentType(file), 'Accept-Ranges': 'bytes', 'Last-Modified': st.mtime.toUTCString(), ...extraHeaders };
  const r = parseRange(req.headers.range, size);
  if (r.kind === 'bad') {
    res.writeHead(416, { ...common, 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: 'bad-input', message: `The requested byte range (${req.headers.range}) is outside this ${size}-byte file or malformed.` }));
    return;
  }
  const [status, start, end] = r.kind === 'range' ? [206, r.start, r.end] : [200, 0, size - 1];
  res.writeHead(status, { ...common, 'Content-Length': String(Math.max(0, end - start + 1)), ...(r.kind === 'range' ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}) });
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file, { start, end });
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
