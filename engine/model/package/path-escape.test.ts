// Paths that leave their folder are refused before the file they name is opened: a shard index's
// weight_map naming "../x" and a manifest entry with a relative ".." path.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importWanFolder } from './import.js';
import { parseManifest } from './manifest.js';
import { writeFakeOriginal } from './testing/fake-wan.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-escape-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a shard index naming a file outside its folder is refused by name, and the file is never recorded', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'download'));
  // A real, readable file outside the download: without the check it would be stat-ed, opened and recorded.
  const secret = path.join(root, 'secret.safetensors');
  writeFileSync(secret, 'SECRET-CONTENT');
  const indexFile = path.join(fake.dir, 'diffusion_pytorch_model.safetensors.index.json');
  const idx = JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> };
  const first = Object.keys(idx.weight_map)[0]!;
  idx.weight_map[first] = '../secret.safetensors';
  writeFileSync(indexFile, JSON.stringify(idx));
  const out = path.join(root, 'pkg');
  await assert.rejects(importWanFolder(fake.dir, { out }), (e: Error) => {
    assert.match(e.message, /names the shard "\.\.\/secret\.safetensors", which is not a file beside the index/);
    assert.doesNotMatch(e.message, /SECRET-CONTENT/);
    return true;
  });
  assert.equal(existsSync(path.join(out, 'refree.json')), false);
});

test('a manifest whose relative file path climbs out of the package is refused', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'download2'));
  const pkg = path.join(root, 'pkg2');
  await importWanFolder(fake.dir, { out: pkg });
  const m = JSON.parse(readFileSync(path.join(pkg, 'refree.json'), 'utf8')) as { components: { dit: { files: { path: string }[] } } };
  parseManifest(m); // valid as written
  m.components.dit.files[0]!.path = '../../etc/passwd';
  assert.throws(() => parseManifest(m), /dit files\[0\]: "\.\.\/\.\.\/etc\/passwd" leaves the package folder/);
});
