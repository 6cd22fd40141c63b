// The refree-media:// protocol: serves /media/<root>/<path> from the service's allowed roots with
// Range support (206 + Content-Range), so <video> and <audio> seek. Written against the web-standard
// Request/Response only, so it is tested in Node without Electron; main.ts hands it to protocol.handle.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Roots } from '../engine/service/media-roots.js';
import { resolveMediaPath } from '../engine/service/media-roots.js';
import { contentRange, contentType, parseRange } from '../engine/common/http-media.js';

export const MEDIA_SCHEME = 'refree-media';

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/** refree-media://media/<root>/<path> → a Response; anything outside the roots is 403/404. */
export function createMediaHandler(getRoots: () => Roots): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Only GET and HEAD are allowed.');
    const url = new URL(req.url);
    if (url.host !== 'media') return text(404, 'Unknown media host.');
    const resolved = await resolveMediaPath(getRoots(), url.pathname.replace(/^\/+/, ''));
    if (!resolved.ok) return text(resolved.status, `Refused: ${resolved.reason}.`);
    const st = await stat(resolved.file);
    if (!st.isFile()) return text(404, 'Not a file.');
    const size = st.size;
    const type = contentType(resolved.file);
    const base = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    const range = parseRange(req.headers.get('range'), size);
    if (range.kind === 'bad') return new Response(null, { status: 416, headers: { ...base, 'content-range': `bytes */${size}` } });
    const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, size - 1];
    const length = size === 0 ? 0 : end - start + 1;
    const headers = { ...base, 'content-length': String(length), ...(range.kind === 'range' ? { 'content-range': contentRange(range, size) } : {}) };
    const body = req.method === 'HEAD' || length === 0 ? null : (Readable.toWeb(createReadStream(resolved.file, { start, end })) as ReadableStream<Uint8Array>);
    return new Response(body, { status: range.kind === 'range' ? 206 : 200, headers });
  };
}
