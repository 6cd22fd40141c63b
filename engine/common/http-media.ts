// The one Range parser and the one content-type table of both hosts: the web host's /media and static
// files (engine/web-host/media-serve.ts) and Electron's refree-media:// and app:// protocols. One
// answer for every header, so <video> seeks the same in a browser and in the desktop app.
//
// Range (RFC 9110 §14): `bytes=a-b`, `bytes=a-` and `bytes=-n` give a byte range (end inclusive); a
// range outside the file or a malformed `bytes=` value is unsatisfiable (416 with `bytes */size`);
// another unit is ignored; several well-formed ranges get the whole file, which a server may answer.
import path from 'node:path';

export type RangeResult = { kind: 'full' } | { kind: 'range'; start: number; end: number } | { kind: 'bad' };

export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header === undefined || header === null || header === '') return { kind: 'full' };
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

export function contentRange(r: { start: number; end: number }, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.aac': 'audio/aac',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
