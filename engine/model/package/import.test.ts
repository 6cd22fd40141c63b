// Import and verify on fake Wan2.2 downloads (TINY weights, original and Diffusers layouts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import { ditParams } from '../inventory/dit.js';
import { t5Params } from '../inventory/t5.js';
import { vaeParams } from '../inventory/vae.js';
import { hashFile } from './hash.js';
import { ImportError, importWanFolder } from './import.js';
import { MANIFEST_FILE, readManifest, resolveFilePath, writeManifest } from './manifest.js';
import { officialConfigJson, writeFakeComfy, writeFakeDiffusers, writeFakeOriginal } from './testing/fake-wan.js';
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

test('original layout with the VAE and umT5 as safetensors (official names), or the umT5 in HF names: all recognised by their tensors', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'st-official'), { vae: 'safetensors', t5: 'safetensors' });
  const r = await importWanFolder(fake.dir, { out: path.join(root, 'pkg-st') });
  assert.equal(r.architecture, 'tiny');
  assert.deepEqual([r.components.vae!.keyLayout, r.components.vae!.tensors, r.components.vae!.dtype], ['original', vaeParams(TINY.vae).length, 'F32']);
  assert.deepEqual([r.components.t5!.keyLayout, r.components.t5!.dtype], ['original', 'BF16']);
  assert.ok(!r.notes.some((n) => /no VAE/.test(n)), r.notes.join('\n'));
  const { manifest } = await readManifest(r.package);
  assert.deepEqual(manifest.components.vae!.files.map((f) => [path.basename(f.path), f.format]), [['Wan2.2_VAE.safetensors', 'safetensors']]);
  assert.ok((await verifyPackage(r.package)).ok);

  const hf = await writeFakeOriginal(path.join(root, 'hf-t5'), { t5: 'hf' });
  const h = await importWanFolder(hf.dir, { out: path.join(root, 'pkg-hf') });
  assert.equal(h.components.t5!.keyLayout, 'diffusers');
  assert.equal(h.components.t5!.tensors, t5Params(TINY.t5!).length);
  assert.equal(h.components.vae!.keyLayout, 'original');

  // A folder without any VAE says so, naming what will not run.
  const none = await writeFakeOriginal(path.join(root, 'no-vae'), { vae: 'none' });
  const n = await importWanFolder(none.dir, { out: path.join(root, 'pkg-no-vae') });
  assert.equal(n.components.vae, undefined);
  assert.ok(n.notes.some((x) => /no VAE weights found: the package has no VAE \(vae-encode \/ vae-decode will not run\)/.test(x)), n.notes.join('\n'));
});

test('ComfyUI models folder: DiT behind model.diffusion_model., VAE and HF-named umT5 found by their tensors', async () => {
  const fake = await writeFakeComfy(path.join(root, 'comfy-models'));
  const r = await importWanFolder(fake.dir, { out: path.join(root, 'pkg-comfy') });
  assert.equal(r.layout, 'comfyui');
  assert.equal(r.architecture, 'tiny');
  const { manifest } = await readManifest(r.package);
  assert.equal(manifest.components.dit!.prefix, 'model.diffusion_model.');
  assert.equal(manifest.components.vae!.keyLayout, 'original');
  assert.equal(manifest.components.t5!.keyLayout, 'diffusers');
  assert.ok(r.notes.some((n) => /no tokenizer\.json/.test(n)));
  // Two DiT files: the import will not guess, and names `models create`.
  const { copyFileSync } = await import('node:fs');
  copyFileSync(fake.shards[0]!, path.join(fake.dir, 'diffusion_models', 'other.safetensors'));
  await assert.rejects(importWanFolder(fake.dir, { out: path.join(root, 'pkg-comfy2') }), /several DiT files: .*other\.safetensors.*; make a package from the one you want with `refree models create/);
});

test('a DiT of another size: one sentence naming --arch; the download\'s own config.json is used when it describes the files', async () => {
  // No config.json, no --arch: the sizes that differ from the default architecture, and what to pass.
  const bare = await writeFakeOriginal(path.join(root, 'size-bare'), { config: 'none' });
  await assert.rejects(importWanFolder(bare.dir, { out: path.join(root, 'pkg-size'), arch: WAN22_TI2V_5B }), (e: unknown) => {
    assert.ok(e instanceof ImportError);
    assert.equal(e.problems.length, 1, e.message);
    assert.equal(
      e.message,
      'the DiT files do not match --arch wan2.2-ti2v-5b: they have dim 48, 2 blocks, ffn_dim 96, in_dim 8, out_dim 8, text_dim 32 and freq_dim 16 ' +
        'where wan2.2-ti2v-5b has dim 3072, 30 blocks, ffn_dim 14336, in_dim 48, out_dim 48, text_dim 4096 and freq_dim 256; ' +
        "pass the --arch that describes these files (the model's config.json, or one of wan2.2-ti2v-5b, tiny)",
    );
    return true;
  });
  // A 3-block DiT no known architecture has, no config.json: the default is named and --arch suggested.
  const three = { ...TINY, name: 'three', dit: { ...TINY.dit, layers: 3 } };
  const odd = await writeFakeOriginal(path.join(root, 'size-odd'), { arch: three, config: 'none' });
  await assert.rejects(importWanFolder(odd.dir, { out: path.join(root, 'pkg-odd') }), (e: unknown) => {
    assert.ok(e instanceof ImportError);
    assert.equal(e.problems.length, 1, e.message);
    assert.match(e.message, /^the DiT files match no known architecture: they have dim 48, 3 blocks, .* where wan2\.2-ti2v-5b has dim 3072, 30 blocks, .*; pass --arch with the model's config\.json \(refree models import <dir> --arch <config\.json>\) or a known name \(wan2\.2-ti2v-5b, tiny\)$/);
    return true;
  });
  // The same download with the config.json Wan ships: read from it; VAE and umT5 matched to the files.
  const shipped = await writeFakeOriginal(path.join(root, 'size-shipped'), { arch: three });
  const r = await importWanFolder(shipped.dir, { out: path.join(root, 'pkg-shipped') });
  assert.equal(r.architecture, 'wan2.2-ti2v-d48-l3');
  assert.ok(r.notes.some((n) => n.startsWith('architecture wan2.2-ti2v-d48-l3 read from ') && n.endsWith('config.json')), r.notes.join('\n'));
  const { manifest } = await readManifest(r.package);
  const arch = manifest.architecture as typeof TINY;
  assert.equal(arch.dit.layers, 3);
  assert.deepEqual(arch.vae, TINY.vae);
  assert.deepEqual(arch.t5, TINY.t5);
  // A shipped config with an option we do not implement is refused by its name.
  const qk = await writeFakeOriginal(path.join(root, 'size-qk'), { arch: three, config: { ...officialConfigJson(three), qk_norm: false } });
  await assert.rejects(importWanFolder(qk.dir, { out: path.join(root, 'pkg-qk') }), /config\.json: qk_norm false is not supported, only true/);
});
