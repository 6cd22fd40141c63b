// Each raw errno a person can meet becomes a sentence naming the path (real errors from real calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdir, readFile, writeFile, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fsErrorSentence } from './fs-errors.js';

test('ENOENT, EISDIR, ENOTDIR, EEXIST, ENOTEMPTY from real calls read as sentences that name the path', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'refree-errno-'));
  try {
    const file = path.join(d, 'file.txt');
    writeFileSync(file, 'x');
    mkdirSync(path.join(d, 'full'));
    writeFileSync(path.join(d, 'full', 'a'), 'a');
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => readFile(path.join(d, 'missing.wav')), /missing\.wav does not exist/],
      [() => readFile(d), /is a folder, not a file; choose a file\./],
      [() => writeFile(path.join(file, 'inside'), 'x'), /A part of .*file\.txt\/inside is a file where a folder was expected/],
      [() => mkdir(file), /file\.txt already exists; choose another name/],
      [() => rmdir(path.join(d, 'full')), /full is a folder that is not empty/],
    ];
    for (const [p, re] of cases) {
      const e = await p().then(() => assert.fail('expected a failure'), (x: unknown) => x);
      const s = fsErrorSentence(e);
      assert.ok(s, `no sentence for ${String(e)}`);
      assert.match(s, re);
      assert.doesNotMatch(s, /\bE[A-Z]{3,}\b/);
    }
    // Codes a person never meets stay null (the caller keeps the original message).
    assert.equal(fsErrorSentence(Object.assign(new Error('x'), { code: 'EPIPE' })), null);
    assert.match(fsErrorSentence(Object.assign(new Error('x'), { code: 'EROFS', path: '/mnt/ro/out.mp4' }))!, /read-only disk/);
    assert.match(fsErrorSentence(Object.assign(new Error('x'), { code: 'ENOSPC', path: '/data/out.mp4' }))!, /disk holding \/data is full/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
