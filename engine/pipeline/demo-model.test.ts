import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPackageSource } from '../model/package/source.js';
import { BUILT_IN_MODEL_DIR, BuiltInModelMissingError, DEMO_MODEL_NAME, builtInModelDir } from './demo-model.js';

test('the built-in model is the refree-mini package shipped in assets/models/refree-mini', async () => {
  assert.equal(DEMO_MODEL_NAME, 'refree-mini');
  assert.equal(BUILT_IN_MODEL_DIR, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'models', 'refree-mini'));
  const dir = await builtInModelDir();
  assert.equal(dir, BUILT_IN_MODEL_DIR);
  const src = await openPackageSource(dir);
  assert.equal(src.name, DEMO_MODEL_NAME);
  assert.ok(src.refree && src.textContext.length === 1, 'speech modules and the learned text context are in the package');
  assert.ok(statSync(path.join(dir, 'generation.json')).isFile(), 'its generation defaults ship with it');
});

test('a missing built-in package is refused with where it should be and how to restore it', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-builtin-'));
  try {
    const gone = path.join(tmp, 'refree-mini');
    await assert.rejects(builtInModelDir(gone), (e: Error) => {
      assert.ok(e instanceof BuiltInModelMissingError);
      assert.match(e.message, /the built-in model refree-mini is missing from .*refree-mini/);
      assert.ok(e.message.includes(gone), e.message);
      assert.match(e.message, /git checkout assets\/models\/refree-mini/);
      assert.match(e.message, /npm run train:mini -- --install/);
      return true;
    });
    // A copy of the package folder is as good as the shipped one.
    const copy = path.join(tmp, 'copy');
    await cp(BUILT_IN_MODEL_DIR, copy, { recursive: true });
    assert.equal(await builtInModelDir(copy), copy);
    // A folder without refree.json is not a package.
    rmSync(path.join(copy, 'refree.json'));
    writeFileSync(path.join(copy, 'README.md'), 'not a package');
    await assert.rejects(builtInModelDir(copy), /missing from .*copy \(no refree\.json there\)/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
