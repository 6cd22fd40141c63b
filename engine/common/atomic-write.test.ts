// Atomic writes: the target always holds one complete version, temp files never stay behind, and a
// failed write leaves the old file untouched.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTempFile, writeFileAtomic, writeJsonAtomic } from './atomic-write.js';

let dir = '';
after(() => rm(dir, { recursive: true, force: true }));

test('concurrent atomic writes leave one complete version and no temp files', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refree-atomic-'));
  const file = path.join(dir, 'job.json');
  const big = (i: number): { i: number; pad: string } => ({ i, pad: String(i).repeat(100_000) });
  await Promise.all(Array.from({ length: 8 }, (_, i) => writeJsonAtomic(file, big(i))));
  const v = JSON.parse(await readFile(file, 'utf8')) as { i: number; pad: string };
  assert.equal(v.pad, String(v.i).repeat(100_000), 'the file is one whole version');
  assert.deepEqual(await readdir(dir), ['job.json']);
  assert.ok(isTempFile('.job.json.123.abcd.tmp'));
  assert.ok(!isTempFile('job.json'));
});

test('a write that cannot complete leaves the old file as it was', async () => {
  const file = path.join(dir, 'keep.json');
  await writeFile(file, 'old');
  await assert.rejects(writeFileAtomic(path.join(dir, 'no-such-dir', 'x.json'), 'new'), /ENOENT/);
  // Renaming a file over a directory fails after the temp file was written: the temp file is removed.
  await assert.rejects(writeFileAtomic(dir, 'new'));
  assert.equal(await readFile(file, 'utf8'), 'old');
  assert.ok(!(await readdir(path.dirname(dir))).some((n) => n.startsWith(`.${path.basename(dir)}.`) && isTempFile(n)), 'no temp file left beside the target');
});
