// refree-app://app/… serves the built renderer (out/renderer) with a strict CSP header. A custom
// privileged scheme instead of file:// gives the page a real origin, lets main check who sends IPC,
// and keeps the grantFileProtocolExtraPrivileges fuse unneeded. Web-standard Response only, so it is
// tested in Node without Electron.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentType } from '../engine/common/http-media.js';

export const APP_SCHEME = 'refree-app';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/** The renderer needs: its own scripts and styles, media and live frames from refree-media:, nothing remote. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: refree-media:",
  "media-src 'self' blob: refree-media:",
  "connect-src 'self' refree-media:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function createAppHandler(rendererDir: string): (req: Request) => Promise<Response> {
  const rootDir = path.resolve(rendererDir);
  return async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'app') return new Response('Not found', { status: 404 });
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.resolve(rootDir, rel);
    if (file !== rootDir && !file.startsWith(rootDir + path.sep)) return new Response('Forbidden', { status: 403 });
    try {
      const body = await readFile(file);
      return new Response(body, { status: 200, headers: { 'content-type': contentType(file), 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' } });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  };
}

/** True for URLs of the app itself: the only page allowed to load, navigate, or call IPC. */
export function isAppUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === `${APP_SCHEME}:` && url.host === 'app';
  } catch {
    return false;
  }
}
