// "Can the studio write here?" — asked when a folder is chosen (Settings' output folder) and when an
// export is queued, so a missing or read-only folder is a sentence at once, not a failed job later.
// The check writes and removes a small file: permissions, read-only mounts and ACLs all show up.
import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fsErrorSentence } from '../common/fs-errors.js';
import { ServiceError } from './errors.js';

export async function checkWritableFolder(dir: string, what = 'The folder'): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st) throw new ServiceError('not-found', `${what} ${dir} does not exist; create it first or choose another folder.`);
  if (!st.isDirectory()) throw new ServiceError('bad-input', `${what} ${dir} is a file, not a folder; choose a folder.`);
  const probe = path.join(dir, `.refree-write-check-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (e) {
    // The sentence names the folder (the probe file is an implementation detail).
    const s = fsErrorSentence(Object.assign(new Error(''), { code: (e as NodeJS.ErrnoException).code, path: dir }));
    throw new ServiceError('bad-input', `${what} ${dir} cannot be written to: ${s ?? (e as Error).message}`);
  } finally {
    await rm(probe, { force: true });
  }
}
