// Raw file-system errors (ENOENT, EISDIR, EACCES, ...) turned into sentences a person can act on: what
// is wrong with which path, and what to do. A read-only folder is not "disk full"; a folder given
// where a file is wanted is named as such. Callers pass what they were doing, so the sentence reads
// "Saving the project failed: /x/y is a folder, not a file."
import path from 'node:path';

export interface ErrnoLike {
  code?: unknown;
  path?: unknown;
  dest?: unknown;
  message?: unknown;
}

export function isErrno(e: unknown): e is Error & { code: string; path?: string } {
  return e instanceof Error && typeof (e as ErrnoLike).code === 'string' && /^E[A-Z0-9]+$/.test((e as ErrnoLike).code as string);
}

/** A sentence for an errno error, or null when the code is not one people meet (then keep the message). */
export function fsErrorSentence(e: unknown, fallbackPath?: string): string | null {
  if (!isErrno(e)) return null;
  const p = typeof e.path === 'string' ? e.path : (fallbackPath ?? 'the file');
  switch (e.code) {
    case 'ENOENT':
      return `${p} does not exist (or a folder on its way is missing); check the path.`;
    case 'EISDIR':
      return `${p} is a folder, not a file; choose a file.`;
    case 'ENOTDIR':
      return `A part of ${p} is a file where a folder was expected; check the path.`;
    case 'EEXIST':
      return `${p} already exists; choose another name or remove it first.`;
    case 'ENOTEMPTY':
      return `${p} is a folder that is not empty; choose an empty or new folder.`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied for ${p}; choose a location you can write to, or change its permissions.`;
    case 'EROFS':
      return `${p} is on a read-only disk; choose a folder on a disk you can write to.`;
    case 'ENOSPC':
      return `The disk holding ${path.dirname(p)} is full; free some space and try again.`;
    case 'EDQUOT':
      return `Your disk quota is used up on the disk holding ${path.dirname(p)}; free some space and try again.`;
    case 'ENAMETOOLONG':
      return `The path ${p.slice(0, 80)}… is too long; choose a shorter name.`;
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many files are open at once; close some programs and try again.';
    case 'EBUSY':
      return `${p} is in use by another program; close it and try again.`;
    case 'EXDEV':
      return `${p} is on another disk than the destination; choose a folder on the same disk.`;
    case 'ELOOP':
      return `${p} is a link that points to itself (a loop of links); fix or remove the link.`;
    default:
      return null;
  }
}
