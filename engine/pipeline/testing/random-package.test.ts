import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openPackageSource } from '../../model/package/source.js';
import { BUILT_IN_MODEL_DIR } from '../demo-model.js';
import { packageHash } from '../model.js';
import { TINY_RANDOM_NAME, readRandomSpec, tinyRandomPackage } from './random-package.js';

test('the tiny-random test package is generated deterministically, once, as an ordinary model package', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-random-pkg-'));
  try {
    const a = await tinyRandomPackage({ root: path.join(tmp, 'a') });
    const b = await tinyRandomPackage({ dir: path.join(tmp, 'data', 'models', TINY_RANDOM_NAME) });
    assert.equal(b, path.join(tmp, 'data', 'models', TINY_RANDOM_NAME), '`dir` writes exactly there');
    const sa = await openPackageSource(a);
    const sb = await openPackageSource(b);
    assert.equal(sa.name, TINY_RANDOM_NAME);
    assert.equal(packageHash(sa), packageHash(sb), 'same spec → same weights → same model hash');
    assert.ok(sa.refree && sa.textContext.length === 1);
    const { spec } = await readRandomSpec();
    assert.equal(sa.arch.dit.dim, spec.architecture.dit.dim);
    const builtIn = await openPackageSource(BUILT_IN_MODEL_DIR);
    assert.ok(sa.arch.dit.dim < builtIn.arch.dit.dim, 'smaller than the built-in model: that is what it is for');
    const before = statSync(path.join(a, 'dit.safetensors')).mtimeMs;
    assert.equal(await tinyRandomPackage({ root: path.join(tmp, 'a') }), a);
    assert.equal(statSync(path.join(a, 'dit.safetensors')).mtimeMs, before, 'not regenerated');
    const bytes = ['dit', 'vae', 'refree'].reduce((n, c) => n + statSync(path.join(a, `${c}.safetensors`)).size, 0);
    assert.ok(bytes < 4 << 20, `${bytes} bytes`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
