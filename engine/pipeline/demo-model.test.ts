import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openPackageSource } from '../model/package/source.js';
import { DEMO_MODEL_NAME, ensureDemoPackage, readDemoSpec } from './demo-model.js';
import { packageHash } from './model.js';

test('the demo package is generated deterministically, once, as an ordinary model package', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-demo-pkg-'));
  try {
    const a = await ensureDemoPackage({ root: path.join(tmp, 'a') });
    const b = await ensureDemoPackage({ root: path.join(tmp, 'b') });
    const sa = await openPackageSource(a);
    const sb = await openPackageSource(b);
    assert.equal(sa.name, DEMO_MODEL_NAME);
    assert.equal(packageHash(sa), packageHash(sb), 'same spec → same weights → same model hash');
    assert.ok(sa.refree && sa.textContext.length === 1);
    const { spec } = await readDemoSpec();
    assert.equal(sa.arch.dit.dim, spec.architecture.dit.dim);
    const before = statSync(path.join(a, 'dit.safetensors')).mtimeMs;
    assert.equal(await ensureDemoPackage({ root: path.join(tmp, 'a') }), a);
    assert.equal(statSync(path.join(a, 'dit.safetensors')).mtimeMs, before, 'not regenerated');
    // Small enough to be generated at first use in about a second.
    const bytes = ['dit', 'vae', 'refree'].reduce((n, c) => n + statSync(path.join(a, `${c}.safetensors`)).size, 0);
    assert.ok(bytes < 4 << 20, `${bytes} bytes`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
