// refree.json validation: every problem is one line naming the field.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TINY } from '../config.js';
import { REFREE_TINY } from '../refree/config.js';
import type { Manifest } from './manifest.js';
import { ManifestError, parseManifest, readManifest, recordPath, resolveArchitecture, resolveFilePath, writeManifest } from './manifest.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-manifest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SHA = 'ab'.repeat(32);
const file = (p: string, extra: Record<string, unknown> = {}) => ({ path: p, format: 'safetensors', keyLayout: 'original', dtype: 'F32', bytes: 10, sha256: SHA, ...extra });

function valid(): Manifest {
  return {
    format: 'refree-package/1',
    name: 'demo',
    version: '1.0.0',
    architecture: 'wan2.2-ti2v-5b',
    engineCache: 'engines',
    components: {
      dit: { keyLayout: 'original', files: [file('/models/wan/diffusion_pytorch_model.safetensors') as never] },
      refree: { config: 'refree-5b', files: [file('adapter.safetensors') as never] },
      lora: [{ name: 'style', files: [file('lora/style.safetensors', { keyLayout: 'kohya' }) as never], multiplier: 0.8 }],
    },
  };
}

function problemsOf(json: unknown): string[] {
  try {
    parseManifest(json, 'refree.json');
  } catch (e) {
    assert.ok(e instanceof ManifestError, String(e));
    assert.match(e.message, /^refree\.json is not a valid model package manifest:\n {2}- /);
    return [...e.problems];
  }
  assert.fail('expected a ManifestError');
}

test('a valid manifest parses; architecture names and config objects resolve', () => {
  const m = parseManifest(valid());
  assert.equal(resolveArchitecture(m.architecture).dit.layers, 30);
  const withObject = { ...valid(), architecture: TINY, components: { refree: { config: REFREE_TINY, files: [] } } };
  assert.equal(resolveArchitecture(parseManifest(withObject).architecture).dit.dim, 48);
});

test('each problem names its field: bad hash, unknown format, missing size, unknown field, unknown architecture', () => {
  const m = valid() as unknown as { components: { dit: { files: Record<string, unknown>[] } }; architecture: unknown; extra?: number };
  const f = m.components.dit.files[0]!;
  f.sha256 = 'abc';
  f.format = 'gguf';
  delete f.bytes;
  f.colour = 'red';
  assert.deepEqual(problemsOf(m), [
    'components.dit.files[0].format: expected one of "safetensors"|"pth"|"onnx"|"json" (got "gguf")',
    'components.dit.files[0].bytes: expected number, received undefined (it is missing)',
    'components.dit.files[0].sha256: expected 64 lowercase hex digits (a SHA-256) (got "abc")',
    'components.dit.files[0]: unknown field "colour"',
  ]);
  assert.deepEqual(problemsOf({ ...valid(), architecture: 'wan9' }), ['architecture: unknown architecture name "wan9" (known: wan2.2-ti2v-5b, tiny; or give a config object)']);
});

test('an architecture object is checked field by field (the union picks the object branch)', () => {
  const arch = { ...TINY, dit: { ...TINY.dit, heads: 0 } } as Record<string, unknown>;
  delete (arch.vae as Record<string, unknown> | undefined)?.zDim;
  const p = problemsOf({ ...valid(), architecture: { ...arch, vae: { ...TINY.vae, zDim: undefined } } });
  assert.deepEqual(p, ['architecture.dit.heads: Too small: expected number to be >0 (got 0)', 'architecture.vae.zDim: expected number, received undefined (it is missing)']);
});

test('semantic checks: unknown ReFree preset, an invalid ReFree config, duplicate files and adapters, an engine cache outside the package', () => {
  const m = valid();
  m.components.refree!.config = 'refree-9b';
  m.components.lora!.push({ name: 'style', files: [file('/models/wan/diffusion_pytorch_model.safetensors') as never] });
  m.engineCache = '../elsewhere';
  const p = problemsOf(m);
  assert.ok(p.includes('components.refree.config: unknown preset "refree-9b" (known: refree-5b, refree-tiny)'), p.join('\n'));
  assert.ok(p.some((x) => /^lora:style files\[0\]: "\/models\/wan\/diffusion_pytorch_model\.safetensors" is already listed under dit files\[0\]$/.test(x)), p.join('\n'));
  assert.ok(p.includes('components.lora[1].name: "style" is used by two adapters'));
  assert.ok(p.some((x) => x.startsWith('engineCache: must be a folder inside the package')));
  const bad = valid();
  bad.components.refree!.config = { ...REFREE_TINY, kernelSizes: [3, 1, 7] } as never;
  assert.deepEqual(problemsOf(bad), ['components.refree.config: ReFree config: kernel sizes [3,1,7] must grow with the level (local → global)']);
});

test('readManifest: a folder without refree.json and a file that is not JSON give one clear sentence; write/read round trip', async () => {
  await assert.rejects(readManifest(path.join(dir, 'nowhere')), /refree\.json is not a valid model package manifest:\n {2}- the file does not exist \(is this a model package folder\?/);
  writeFileSync(path.join(dir, 'refree.json'), '{"format": ');
  await assert.rejects(readManifest(dir), /- not valid JSON: /);
  await writeManifest(dir, valid());
  const r = await readManifest(dir);
  assert.deepEqual(r.manifest, valid());
  assert.equal(r.dir, dir);
  // writeManifest refuses to write an invalid manifest.
  await assert.rejects(writeManifest(dir, { ...valid(), name: '' }), /name: /);
});

test('file paths: relative inside the package (POSIX separators), absolute outside; resolved back', () => {
  const pkg = path.join(dir, 'pkg');
  assert.equal(recordPath(pkg, path.join(pkg, 'lora', 'a.safetensors')), 'lora/a.safetensors');
  assert.equal(recordPath(pkg, path.join(dir, 'wan', 'w.safetensors')), path.join(dir, 'wan', 'w.safetensors'));
  assert.equal(resolveFilePath(pkg, { path: 'lora/a.safetensors' }), path.join(pkg, 'lora', 'a.safetensors'));
  assert.equal(resolveFilePath(pkg, { path: '/abs/w.safetensors' }), '/abs/w.safetensors');
});
