// The folders whose files may be served to a renderer (DESIGN 10): the data folder (projects,
// imports, previews), the output folder, the shipped assets, and project folders opened elsewhere.
// A media URL is /media/<root name>/<path inside the root>. Resolution refuses anything that leaves
// its root: `..` segments (also percent-encoded), absolute paths, and symlinks whose real path lies
// outside the root's real path.
import { realpath } from 'node:fs/promises';
import path from 'node:path';

export type Roots = ReadonlyMap<string, string>;

export const ROOT_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** /media/<root>/<segments…> for an absolute path under one of the roots, else null. */
export function mediaUrlFor(roots: Roots, abs: string): string | null {
  const target = path.resolve(abs);
  let best: { name: string; rel: string } | null = null;
  for (const [name, dir] of roots) {
    const rel = path.relative(path.resolve(dir), target);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    if (!best || rel.length < best.rel.length) best = { name, rel };
  }
  if (!best) return null;
  return `/media/${best.name}/${best.rel.split(path.sep).map(encodeURIComponent).join('/')}`;
}

export type ResolveResult = { ok: true; file: string } | { ok: false; status: 403 | 404; reason: string };

/**
 * `urlPath` is what follows /media/ in the request, still percent-encoded. Decodes each segment once,
 * rejects `.`/`..`/empty segments, separators or NUL inside a segment, then checks the real path.
 */
export async function resolveMediaPath(roots: Roots, urlPath: string): Promise<ResolveResult> {
  const raw = urlPath.split('/');
  const rootName = raw.shift() ?? '';
  const rootDir = roots.get(rootName);
  if (!ROOT_NAME.test(rootName) || !rootDir) return { ok: false, status: 404, reason: `there is no media folder named "${rootName}"` };
  const segs: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return { ok: false, status: 403, reason: 'the media path is not valid percent-encoding' };
    }
    if (s === '' || s === '.' || s === '..' || /[\\/\0]/.test(s)) return { ok: false, status: 403, reason: 'the media path leaves its folder or is malformed' };
    segs.push(s);
  }
  if (!segs.length) return { ok: false, status: 403, reason: 'a media path must name a file' };
  const lexical = path.join(rootDir, ...segs);
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(rootDir);
    real = await realpath(lexical);
  } catch {
    return { ok: false, status: 404, reason: 'no such media file' };
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { ok: false, status: 403, reason: 'the media file lies outside the allowed folders (a link points elsewhere)' };
  return { ok: true, file: real };
}
