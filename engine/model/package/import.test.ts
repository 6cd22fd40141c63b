// Import and verify on fake Wan2.2 downloads (TINY weights, original and Diffusers layouts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ditParams } from '../inventory/dit.js';
import { t5Params } from '../inventory/t5.js';
import { vaeParams } from '../inventory/vae.js';
import { hashFile } from './hash.js';
import { ImportError, importWanFolder } from './import.js';
import { MANIFEST_FILE, readManifest, resolveFilePath, writeManifest } from './manifest.js';
import { writeFakeDiffusers, writeFakeOriginal } from './testing/fake-wan.js';
import { verifyPackage } from './verify.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-import-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('original layout: import references every file with size and SHA-256, checks keys, infers the tiny architecture', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'Wan2.2-TI2V-5B'));
  const pkg = path.join(root, 'pkg-original');
  const seen: number[] = [];
  const r = await importWanFolder(fake.dir, { out: pkg, onProgress: (p) => seen.push(p.done / Math.max(1, p.total)) });
  assert.equal(r.architecture, 'tiny');
  assert.equal(r.layout, 'original');
  assert.equal(r.name, 'Wan2.2-TI2V-5B');
  assert.equal(r.package, pkg);
  assert.deepEqual(Object.keys(r.components), ['dit', 'vae', 't5', 'tokenizer']);
  assert.equal(r.components.dit!.tensors, ditParams(fake.arch.dit).length);
  assert.equal(r.components.dit!.dtype, 'mixed');
  assert.equal(r.components.vae!.tensors, vaeParams(fake.arch.vae).length);
  assert.equal(r.components.t5!.tensors, t5Params(fake.arch.t5!).length);
  assert.equal(r.components.t5!.dtype, 'BF16');
  assert.ok(seen.length > 2 && seen.at(-1) === 1, 'progress reached 100%');

  const { manifest } = await readManifest(pkg);
  assert.equal(manifest.architecture, 'tiny');
  const dit = manifest.components.dit!;
  assert.equal(dit.keyLayout, 'original');
  // Index json + 2 shards + config.json, all referenced by absolute path (outside the package), none copied.
  assert.deepEqual(dit.files.map((f) => [path.basename(f.path), f.format, f.dtype, f.role ?? null]), [
    ['diffusion_pytorch_model.safetensors.index.json', 'json', null, 'index'],
    ['diffusion_pytorch_model-00001-of-00002.safetensors', 'safetensors', 'F32', null],
    ['diffusion_pytorch_model-00002-of-00002.safetensors', 'safetensors', 'BF16', null],
    ['config.json', 'json', null, 'config'],
  ]);
  for (const f of dit.files) {
    assert.ok(path.isAbsolute(f.path) && f.path.startsWith(fake.dir), f.path);
    assert.equal(f.bytes, statSync(f.path).size);
    assert.equal(f.sha256, (await hashFile(f.path)).sha256);
  }
  assert.equal(manifest.components.vae!.files[0]!.format, 'pth');
  assert.deepEqual(manifest.components.tokenizer!.files.map((f) => path.basename(f.path)), ['tokenizer.json', 'tokenizer_config.json']);
  assert.equal(r.hashedBytes, [dit, manifest.components.vae!, manifest.components.t5!, manifest.components.tokenizer!].flatMap((c) => c.files).reduce((a, f) => a + f.bytes, 0));

  // verify: clean, then a corrupted byte in the BF16 shard's data is reported for that file only.
  const ok = await verifyPackage(pkg);
  assert.equal(ok.ok, true, ok.problems.join('\n'));
  assert.equal(ok.files.length, 8);
  const shard = fake.shards[1]!;
  const fd = openSync(shard, 'r+');
  const b = Buffer.alloc(1);
  const at = statSync(shard).size - 10;
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  const bad = await verifyPackage(pkg);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.files.filter((f) => !f.ok).map((f) => f.file), [shard]);
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0]!, /diffusion_pytorch_model-00002-of-00002\.safetensors: SHA-256 differs: recorded [0-9a-f]{64}, the file has [0-9a-f]{64}/);

  // A truncated VAE: the size check reports it without hashing; a missing tokenizer file is named.
  const vaeFile = resolveFilePath(pkg, manifest.components.vae!.files[0]!);
  const vaeBytes = readFileSync(vaeFile);
  const { writeFileSync, unlinkSync } = await import('node:fs');
  writeFileSync(vaeFile, vaeBytes.subarray(0, vaeBytes.length - 100));
  unlinkSync(path.join(fake.dir, 'google', 'umt5-xxl', 'tokenizer_config.json'));
  const worse = await verifyPackage(pkg);
  const byName = new Map(worse.files.map((f) => [path.basename(f.file), f.problems]));
  assert.match(byName.get('Wan2.2_VAE.pth')![0]!, new RegExp(`size differs: recorded ${vaeBytes.length} bytes, the file has ${vaeBytes.length - 100}`));
  assert.match(byName.get('tokenizer_config.json')![0]!, /^missing/);
  assert.equal(worse.problems.length, 3);
});

test('a missing and an unknown DiT key are reported by name; --allow-unknown-keys imports anyway', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'bad-keys'), { dropKey: 'blocks.1.cross_attn.k.bias', extraKey: 'blocks.0.img_attn.q.weight' });
  await assert.rejects(
    importWanFolder(fake.dir, { out: path.join(root, 'pkg-bad'), arch: (await import('../config.js')).TINY }),
    (e: unknown) => {
      assert.ok(e instanceof ImportError);
      assert.match(e.message, /dit: 1 parameter\(s\) missing from the files: 'blocks\.1\.cross_attn\.k\.bias'/);
      assert.match(e.message, /dit: 1 key\(s\) are not parameters of this architecture: 'blocks\.0\.img_attn\.q\.weight'/);
      assert.match(e.message, /checked against the tiny architecture \(--arch\)/);
      return true;
    },
  );
  // Nothing was written for the failed import.
  assert.equal(statSync(path.join(root, 'pkg-bad'), { throwIfNoEntry: false }), undefined);

  const extraOnly = await writeFakeOriginal(path.join(root, 'extra-key'), { extraKey: 'blocks.0.img_attn.q.weight' });
  const r = await importWanFolder(extraOnly.dir, { out: path.join(root, 'pkg-extra'), allowUnknownKeys: true });
  assert.deepEqual(r.unknownKeys, { dit: ['blocks.0.img_attn.q.weight'] });
  assert.ok(r.notes.some((n) => n.includes("'blocks.0.img_attn.q.weight'")));
});

test('a shard named by the index but absent, and a folder that is not a Wan download, give one clear sentence', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'incomplete'));
  rmSync(fake.shards[1]!);
  await assert.rejects(importWanFolder(fake.dir, { out: path.join(root, 'pkg-inc') }), /shard .*diffusion_pytorch_model-00002-of-00002\.safetensors is named in diffusion_pytorch_model\.safetensors\.index\.json but missing/);
  await assert.rejects(importWanFolder(path.join(fake.dir, 'google')), /is not a Wan2\.2-TI2V-5B download: expected the original layout .* found: umt5-xxl/);
});

test('Diffusers layout: DiT, VAE (AutoencoderKLWan names) and text encoder (HF UMT5 names) all mapped', async () => {
  const fake = await writeFakeDiffusers(path.join(root, 'Wan2.2-TI2V-5B-Diffusers'));
  const pkg = path.join(root, 'pkg-diffusers');
  const r = await importWanFolder(fake.dir, { out: pkg, name: 'wan-diffusers' });
  assert.equal(r.layout, 'diffusers');
  assert.equal(r.architecture, 'tiny');
  assert.equal(r.components.dit!.keyLayout, 'diffusers');
  assert.equal(r.components.vae!.keyLayout, 'diffusers');
  assert.equal(r.components.vae!.tensors, vaeParams(fake.arch.vae).length);
  assert.equal(r.components.t5!.keyLayout, 'diffusers');
  // The tied `encoder.embed_tokens.weight` beside `shared.weight` is one more tensor, not an unknown key.
  assert.equal(r.components.t5!.tensors, t5Params(fake.arch.t5!).length + 1);
  assert.deepEqual(r.unknownKeys, {});
  const { manifest } = await readManifest(pkg);
  assert.equal(manifest.name, 'wan-diffusers');
  assert.equal(manifest.components.vae!.loadable, undefined);
  assert.equal(manifest.components.dit!.files.find((f) => f.format === 'safetensors')!.keyLayout, 'diffusers');
  assert.ok((await verifyPackage(pkg)).ok);
  assert.equal(path.basename(path.join(pkg, MANIFEST_FILE)), 'refree.json');

  // Re-importing into the same package keeps what was added since (here a LoRA entry).
  const lora = { name: 'style', files: [{ path: 'lora/style.safetensors', format: 'safetensors' as const, keyLayout: 'kohya' as const, dtype: 'F32', bytes: 1, sha256: 'cd'.repeat(32) }] };
  await writeManifest(pkg, { ...manifest, components: { ...manifest.components, lora: [lora] } });
  const again = await importWanFolder(fake.dir, { out: pkg, name: 'wan-diffusers' });
  assert.ok(again.notes.some((n) => n.startsWith('kept lora from the existing')), again.notes.join('\n'));
  assert.deepEqual((await readManifest(pkg)).manifest.components.lora, [lora]);
});
