// The clips folder: checked before anything is written (missing, a file, no videos → PrepareError), and
// its video files listed in a stable order with a file-name-safe id each.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PrepareError, VIDEO_EXTENSIONS } from './types.js';

export interface SourceClip {
  id: string;
  file: string;
  bytes: number;
  mtimeMs: number;
}

const isVideoName = (name: string): boolean => (VIDEO_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());

/** `My Talk (1).mp4` → `My_Talk_1`; names that collide get their extension appended (`talk-mov`). */
export function clipIds(files: readonly string[]): string[] {
  const stemOf = (f: string): string => {
    const base = path.basename(f, path.extname(f)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '');
    return base || 'clip';
  };
  const counts = new Map<string, number>();
  for (const f of files) counts.set(stemOf(f), (counts.get(stemOf(f)) ?? 0) + 1);
  const used = new Set<string>();
  return files.map((f) => {
    let id = stemOf(f);
    if (counts.get(id)! > 1) id = `${id}-${path.extname(f).slice(1).toLowerCase()}`;
    let unique = id;
    for (let n = 2; used.has(unique); n++) unique = `${id}-${n}`;
    used.add(unique);
    return unique;
  });
}

export async function listSourceClips(input: string): Promise<SourceClip[]> {
  const dir = path.resolve(input);
  const st = await stat(dir).catch(() => null);
  if (!st) throw new PrepareError(`the clips folder ${dir} does not exist; give the folder that holds your video clips`);
  if (!st.isDirectory()) throw new PrepareError(`${dir} is a file, not a folder; give the folder that holds your video clips`);
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isVideoName(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const files = names.map((n) => path.join(dir, n));
  const stats = await Promise.all(files.map((f) => stat(f).catch(() => null)));
  const usable = files.filter((_, i) => stats[i]?.isFile());
  if (usable.length === 0) {
    throw new PrepareError(`the clips folder ${dir} holds no video files (${VIDEO_EXTENSIONS.join(', ')}); put your talking-head clips there`);
  }
  const ids = clipIds(usable);
  return usable.map((file, i) => {
    const s = stats[files.indexOf(file)]!;
    return { id: ids[i]!, file, bytes: s.size, mtimeMs: s.mtimeMs };
  });
}
