// The shared folder every farm machine mounts (an NFS/SMB share, often at a different place on each
// machine). Payloads carry paths relative to it, so a job submitted on a Mac that mounts the share at
// /Volumes/farm runs on a Linux worker that mounts it at /mnt/farm. Every path is checked on both
// sides: at submit (the absolute path must lie inside the submitter's shared folder) and on the worker
// (the relative path must stay inside the worker's shared folder, symbolic links resolved), so a
// payload can never make a worker read or write elsewhere on its disk.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export class FarmPathError extends Error {
  override name = 'FarmPathError';
}

/** The folder's real path; a missing folder or a file is refused with a sentence. */
export function sharedRoot(dir: string): string {
  const abs = path.resolve(dir);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new FarmPathError(`The shared folder ${abs} does not exist on this machine: mount the farm's shared folder there, or give the place where it is mounted.`);
  }
  if (!st.isDirectory()) throw new FarmPathError(`The shared folder ${abs} is a file, not a folder: give the folder every farm machine mounts.`);
  return realpathSync(abs);
}

/** The real path of `p`: symbolic links of its longest existing ancestor resolved, the rest appended. */
function realish(p: string): string {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return p;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

function inside(root: string, real: string): string | null {
  const rel = path.relative(root, real);
  if (rel === '' || rel.startsWith(`..${path.sep}`) || rel === '..' || path.isAbsolute(rel)) return null;
  return rel;
}

/**
 * Submit side: `p` (absolute, or relative to the working folder) must lie inside `root`; returns its
 * path relative to the shared folder with `/` separators (what a payload carries).
 */
export function toSharedPath(root: string, p: string, what: string): string {
  const real = realish(path.resolve(p));
  const rel = inside(root, real);
  if (rel === null) throw new FarmPathError(`${what} ${p} is outside the shared folder ${root}: every farm machine reads and writes only inside that folder, so move it there (or choose a place there) and submit again.`);
  return rel.split(path.sep).join('/');
}

/** Worker side: a payload path resolved against this machine's shared folder, refused when it leaves it. */
export function fromSharedPath(root: string, rel: string, what: string): string {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0')) throw new FarmPathError(`${what} in the job is empty or not a path.`);
  if (path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel) || rel.startsWith('\\\\')) {
    throw new FarmPathError(`${what} ${rel} in the job is an absolute path; a farm job names files relative to the shared folder ${root}, so it cannot point outside it.`);
  }
  const abs = path.resolve(root, ...rel.split('/'));
  if (inside(root, realish(abs)) === null) throw new FarmPathError(`${what} ${rel} in the job resolves to ${realish(abs)}, outside the shared folder ${root}; a farm job may only name files inside that folder.`);
  return abs;
}

/** Where the farm keeps its own files inside the shared folder (chunk checkpoints of running jobs). */
export const FARM_DIR = '.refree-farm';

/** A job's checkpoint folder, on the shared folder so that any worker can resume it. */
export function farmWorkDir(root: string, jobId: string): string {
  return path.join(root, FARM_DIR, 'work', jobId.replace(/[^A-Za-z0-9_-]/g, '_'));
}
