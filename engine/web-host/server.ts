// The web host (DESIGN 10): the studio's renderer and service over HTTP + WebSocket, for browsers and
// headless GPU boxes, and for the end-to-end tests. Bound to 127.0.0.1 only. Routes:
//   GET  /api/health                → the service's app.health          (token)
//   POST /api/rpc  {method, params} → {ok, value} | {ok:false, error}   (token, JSON only)
//   WS   /api/events                → {event, payload} messages          (token: ?token= or subprotocol)
//   POST /api/upload?name=&kind=&project= (raw bytes, streamed) → {ok, value: MediaInfo}  (token)
//   GET  /media/<root>/<path>       → a file under an allowed root, with Range support (token);
//                                     ?download=1 saves it (Content-Disposition: attachment)
//   GET  /*                         → the built renderer (static, with a CSP), index.html for app routes
// Every request must carry an allowed Host header (guards.ts). Errors are JSON `{code, message}`.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { ABSOLUTE_PATH, MAX_FILE_UPLOAD_BYTES, MAX_UPLOAD_BYTES } from '../service/contract.js';
import type { ErrorCode, ErrorInfo } from '../service/errors.js';
import type { Roots } from '../service/media-roots.js';
import { resolveMediaPath } from '../service/media-roots.js';
import type { DispatchResult } from '../service/service.js';
import { hostAllowed, newToken, originAllowed, TOKEN_PROTOCOL_PREFIX, tokenOk } from './guards.js';
import { serveFile } from './media-serve.js';

/** What the web host needs from the service (StudioService implements it). */
export interface HostedService {
  dispatch(method: unknown, params: unknown): Promise<DispatchResult>;
  on(cb: (event: string, payload: unknown) => void): () => void;
  roots(): Roots;
  /** Where upload bytes are written while they arrive; without it /api/upload is not offered. */
  readonly uploadDir?: string;
  /** Imports a finished upload (the host removes `tmp` afterwards). */
  importUpload?(tmp: string, name: string, kind: 'image' | 'audio', project: string | undefined): Promise<DispatchResult>;
}

export interface WebHostOptions {
  service: HostedService;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The built renderer (index.html and its assets); null serves a short page saying it is not built. */
  staticDir?: string | null;
  /** Default: 32 random bytes, base64url. */
  token?: string;
  /** Largest accepted RPC body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest accepted body of a media.upload call, the one method that carries file bytes (default: 50 MB as base64, plus 64 KiB). */
  maxUploadBodyBytes?: number;
  /** Largest file /api/upload accepts (default MAX_FILE_UPLOAD_BYTES). */
  maxFileUploadBytes?: number;
}

export interface WebHost {
  server: Server;
  port: number;
  token: string;
  /** http://127.0.0.1:N/?token=… — what the person opens. */
  url: string;
  close(): Promise<void>;
}

export const LISTEN_HOST = '127.0.0.1';

const STATUS: Record<ErrorCode, number> = {
  'bad-input': 400,
  'unknown-method': 400,
  'not-found': 404,
  conflict: 409,
  'not-available': 501,
  unauthorized: 401,
  forbidden: 403,
  engine: 502,
  internal: 500,
};

export function csp(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // The token travels in the page URL: never leak it in a Referer.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, error: ErrorInfo): void {
  sendJson(res, status, { ok: false, error }, status === 401 ? { 'WWW-Authenticate': 'Bearer realm="refree"' } : {});
}

/** The only RPC method whose body may exceed maxBodyBytes (it carries a recording as base64). */
const UPLOAD_METHOD = 'media.upload';

function readBody(req: IncomingMessage, max: number): Promise<{ ok: true; text: string; bytes: number } | { ok: false }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? { ok: false } : { ok: true, text: Buffer.concat(chunks).toString('utf8'), bytes: n }));
    req.on('error', reject);
  });
}

const sizeText = (n: number): string => (n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${Math.round(n / 1024)} KB`);

type UploadOutcome = { ok: true; bytes: number } | { ok: false; status: number; error: ErrorInfo };

/** Streams the request body into `file`, stopping (and reporting 413) past `max` bytes. */
function receiveFile(req: IncomingMessage, file: string, max: number): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    const out = createWriteStream(file, { flags: 'wx' });
    let n = 0;
    let settled = false;
    const finish = (r: UploadOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        req.unpipe(out);
        out.destroy();
        req.resume();
        finish({ ok: false, status: 413, error: { code: 'bad-input', message: `The file is larger than ${sizeText(max)}, the most the studio takes as an upload; shorten or compress it first.` } });
      }
    });
    req.on('aborted', () => finish({ ok: false, status: 400, error: { code: 'bad-input', message: 'The upload was interrupted before the whole file arrived; try again.' } }));
    req.on('error', () => finish({ ok: false, status: 400, error: { code: 'bad-input', message: 'The upload was interrupted before the whole file arrived; try again.' } }));
    out.on('error', (e) => finish({ ok: false, status: 500, error: { code: 'internal', message: `The upload could not be stored: ${e.message}` } }));
    out.on('finish', () => finish({ ok: true, bytes: n }));
    req.pipe(out);
  });
}

/** Content-Disposition for a download, with an ASCII fallback name and the exact name in RFC 5987 form. */
export function attachmentHeader(file: string): string {
  const name = path.basename(file);
  return `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>ReFree Studio</title>
<p>The studio's renderer is not built yet. Build it (it goes to out/renderer) and restart <code>npm run serve</code>.
The service itself is running: <code>POST /api/rpc</code> with the token.</p>`;

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? newToken();
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const maxUploadBody = Math.max(maxBody, opts.maxUploadBodyBytes ?? Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + (64 << 10));
  const maxFileUpload = opts.maxFileUploadBytes ?? MAX_FILE_UPLOAD_BYTES;
  const staticRoots: Roots | null = opts.staticDir ? new Map([['app', path.resolve(opts.staticDir)]]) : null;
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req, port)) {
      return sendError(res, 403, { code: 'forbidden', message: `This server answers only to http://127.0.0.1:${port} or http://localhost:${port}; the request named host "${req.headers.host ?? ''}".` });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${LISTEN_HOST}:${port}`);
    } catch {
      return sendError(res, 400, { code: 'bad-input', message: 'The request URL is malformed.' });
    }
    // Match on the raw path: URL() would already have resolved "/media/../x" to "/x".
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const isApi = rawPath === '/api' || rawPath.startsWith('/api/');
    const isMedia = rawPath.startsWith('/media/');

    if (isApi || isMedia) {
      if (!originAllowed(req, port)) return sendError(res, 403, { code: 'forbidden', message: 'Requests from other web pages are refused.' });
      if (!tokenOk(req, url, token)) {
        return sendError(res, 401, { code: 'unauthorized', message: 'This request needs the studio token: open the address that `npm run serve` printed (it ends in ?token=…).' });
      }
    }

    if (isApi) {
      if (rawPath === '/api/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        const r = await opts.service.dispatch('app.health', {});
        return r.ok ? sendJson(res, 200, r.value) : sendError(res, STATUS[r.error.code], r.error);
      }
      if (rawPath === '/api/rpc') {
        if (req.method !== 'POST') return sendError(res, 405, { code: 'bad-input', message: 'Use POST for /api/rpc, with a JSON body {"method": "...", "params": {...}}.' });
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        // JSON only: a cross-site form cannot send this content type without a CORS preflight.
        if (ct !== 'application/json') return sendError(res, 415, { code: 'bad-input', message: 'The request body must be JSON (Content-Type: application/json).' });
        // Bodies up to maxUploadBody are read, but one above maxBody is accepted only for media.upload
        // (checked once the method is known); a declared length above every cap is refused unread.
        const tooLarge = (limit: number): void => sendError(res, 413, { code: 'bad-input', message: `The request body is larger than ${limit} bytes${limit === maxBody ? ` (only ${UPLOAD_METHOD} may send up to ${maxUploadBody} bytes)` : ''}.` });
        if (Number(req.headers['content-length'] ?? 0) > maxUploadBody) {
          // Close the connection rather than read (or leave unread) a body that will be refused anyway.
          res.setHeader('Connection', 'close');
          return tooLarge(maxUploadBody);
        }
        const body = await readBody(req, maxUploadBody);
        if (!body.ok) return tooLarge(maxUploadBody);
        let msg: unknown;
        try {
          msg = JSON.parse(body.text);
        } catch (e) {
          return sendError(res, 400, { code: 'bad-input', message: `The request body is not valid JSON (${(e as Error).message}).` });
        }
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || typeof (msg as { method?: unknown }).method !== 'string') {
          return sendError(res, 400, { code: 'bad-input', message: 'The request body must be an object {"method": "<name>", "params": {...}}; "method" is missing or not a string.' });
        }
        const extra = Object.keys(msg).filter((k) => k !== 'method' && k !== 'params');
        if (extra.length) return sendError(res, 400, { code: 'bad-input', message: `The request body has unknown field(s) ${extra.join(', ')}; only "method" and "params" are allowed.` });
        const { method, params } = msg as { method: string; params?: unknown };
        if (body.bytes > maxBody && method !== UPLOAD_METHOD) return tooLarge(maxBody);
        const r = await opts.service.dispatch(method, params);
        return r.ok ? sendJson(res, 200, r) : sendError(res, STATUS[r.error.code], r.error);
      }
      if (rawPath === '/api/upload' && opts.service.importUpload && opts.service.uploadDir) {
        if (req.method !== 'POST') return sendError(res, 405, { code: 'bad-input', message: 'Use POST for /api/upload, with the file as the body.' });
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        // Not a type a cross-site form can send: a browser asks first (CORS preflight), and this server never allows it.
        if (ct !== 'application/octet-stream') return sendError(res, 415, { code: 'bad-input', message: 'An upload must be sent as Content-Type: application/octet-stream.' });
        const name = url.searchParams.get('name') ?? '';
        const kind = url.searchParams.get('kind');
        const project = url.searchParams.get('project') ?? undefined;
        if (!name) return sendError(res, 400, { code: 'bad-input', message: 'The upload needs the file name (?name=…).' });
        if (kind !== 'image' && kind !== 'audio') return sendError(res, 400, { code: 'bad-input', message: 'The upload needs ?kind=image (a portrait) or ?kind=audio (speech).' });
        if (project !== undefined && !ABSOLUTE_PATH.test(project)) return sendError(res, 400, { code: 'bad-input', message: 'project: give the full path of the project file; a relative path is not accepted.' });
        if (Number(req.headers['content-length'] ?? 0) > maxFileUpload) {
          res.setHeader('Connection', 'close');
          return sendError(res, 413, { code: 'bad-input', message: `${name} is larger than ${sizeText(maxFileUpload)}, the most the studio takes as an upload; shorten or compress it first.` });
        }
        await mkdir(opts.service.uploadDir, { recursive: true });
        const tmp = path.join(opts.service.uploadDir, `.upload-${randomBytes(8).toString('hex')}${path.extname(name).toLowerCase().replace(/[^.a-z0-9]/g, '')}`);
        // The temporary file is gone before the answer leaves, whatever the outcome.
        let answer: { status: number; body: DispatchResult };
        try {
          const got = await receiveFile(req, tmp, maxFileUpload);
          if (!got.ok) {
            if (got.status === 413) res.setHeader('Connection', 'close');
            answer = { status: got.status, body: { ok: false, error: got.error } };
          } else if (got.bytes === 0) answer = { status: 400, body: { ok: false, error: { code: 'bad-input', message: `${name} is empty (0 bytes); choose another file.` } } };
          else {
            const r = await opts.service.importUpload(tmp, name, kind, project);
            answer = { status: r.ok ? 200 : STATUS[r.error.code], body: r };
          }
        } finally {
          await rm(tmp, { force: true });
        }
        return answer.body.ok ? sendJson(res, 200, answer.body) : sendError(res, answer.status, answer.body.error);
      }
      return sendError(res, 404, { code: 'not-found', message: `There is no API route ${rawPath}.` });
    }

    if (isMedia) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, { code: 'bad-input', message: 'Media can only be read (GET or HEAD).' });
      const r = await resolveMediaPath(opts.service.roots(), rawPath.slice('/media/'.length));
      if (!r.ok) return sendError(res, r.status, { code: r.status === 403 ? 'forbidden' : 'not-found', message: `Refused: ${r.reason}.` });
      return serveFile(req, res, r.file, { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache', ...(url.searchParams.get('download') === '1' ? { 'Content-Disposition': attachmentHeader(r.file) } : {}) });
    }

    // Static renderer.
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, { code: 'bad-input', message: 'Only GET and HEAD are served here.' });
    const pageHeaders: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Security-Policy': csp(port), 'Cache-Control': 'no-cache' };
    // No cookie is set: cookies are not port-scoped, so any other server on 127.0.0.1 would receive it.
    // The renderer keeps the token from the URL and adds it to API, WebSocket and media requests.
    if (!staticRoots) {
      res.writeHead(200, { ...pageHeaders, 'Content-Type': 'text/html; charset=utf-8' });
      return void res.end(NOT_BUILT);
    }
    const rel = rawPath === '/' ? 'index.html' : rawPath.slice(1);
    let r = await resolveMediaPath(staticRoots, `app/${rel}`);
    // App routes (no file extension) get index.html; missing assets stay 404.
    if (!r.ok && r.status === 404 && !path.extname(rel)) r = await resolveMediaPath(staticRoots, 'app/index.html');
    if (!r.ok) return sendError(res, r.status, { code: r.status === 403 ? 'forbidden' : 'not-found', message: `Refused: ${r.reason}.` });
    return serveFile(req, res, r.file, pageHeaders);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, { code: 'internal', message: `The web host failed while answering ${req.method} ${(req.url ?? '').split('?')[0]}: ${(e as Error).message}` });
      else res.destroy();
    });
  });

  // WebSocket /api/events: same Host, Origin and token rules as HTTP, checked before the upgrade.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 << 10,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (!p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p;
      // Echo the token protocol back when it was the only one (browsers require an echo of one offered).
      return [...protocols][0] ?? false;
    },
  });
  const sockets = new Set<WebSocket>();
  const offService = opts.service.on((event, payload) => {
    const text = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const rawPath = (req.url ?? '/').split('?')[0];
    if (!hostAllowed(req, port) || !originAllowed(req, port)) return refuse(403, 'Forbidden');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${LISTEN_HOST}:${port}`);
    } catch {
      return refuse(400, 'Bad Request');
    }
    if (rawPath !== '/api/events') return refuse(404, 'Not Found');
    if (!tokenOk(req, url, token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // The stream is one-way; anything a client sends is ignored.
      ws.send(JSON.stringify({ event: 'hello', payload: { ok: true } }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LISTEN_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    token,
    url: `http://${LISTEN_HOST}:${port}/?token=${token}`,
    close: async () => {
      offService();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
