// Packages from any official download, through the CLI entry: a package written by `models create`
// around official-layout safetensors, one imported from an official-layout folder whose VAE and umT5
// are safetensors, and one from the Diffusers layout all pass `models verify` and compute exactly what
// the package imported from the .pth files computes (`run dit`, `run vae-decode`, `run t5`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TINY } from '../model/config.js';
import { hashFile } from '../model/package/hash.js';
import { readManifest, resolveFilePath } from '../model/package/manifest.js';
import { officialConfigJson, writeFakeDiffusers, writeFakeOriginal } from '../model/package/testing/fake-wan.js';
import type { FakeWan } from '../model/package/testing/fake-wan.js';
import { seededNormal } from '../model/random-weights.js';
import { WAV2VEC2_BASE, wav2vec2Params } from '../model/speech/wav2vec2-graph.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';
import type { CliIO } from './command.js';
import { main } from './main.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-models-create-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown>; err: string }> {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += `${t}\n`), stderr: (t: string) => void (io.err += t) };
  const code = await main([...args, '--json'], io as CliIO);
  if (code !== 2) assert.equal(io.out.trim().split('\n').length, 1, `one JSON line: ${io.out}`);
  return { code, json: JSON.parse(io.out) as Record<string, unknown>, err: io.err };
}

async function readOut(file: string, name: string): Promise<Float32Array> {
  const st = await SafetensorsFile.open(file);
  try {
    return Float32Array.from(await st.readF32(name));
  } finally {
    await st.close();
  }
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  assert.ok(a.length > 0, what);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  assert.equal(diff, 0, `${what}: ${diff} of ${a.length} values differ`);
}

let pth: FakeWan;
let st: FakeWan;
const pkg = { pth: path.join(root, 'pkg-pth'), created: path.join(root, 'pkg-created'), imported: path.join(root, 'pkg-imported'), diffusers: path.join(root, 'pkg-diffusers') };
const inputs = { dit: path.join(root, 'dit-in.safetensors'), latents: path.join(root, 'latents.safetensors') };

before(async () => {
  pth = await writeFakeOriginal(path.join(root, 'Wan2.2-TI2V-5B'));
  st = await writeFakeOriginal(path.join(root, 'Wan2.2-TI2V-5B-safetensors'), { vae: 'safetensors', t5: 'safetensors' });
  const d = TINY.dit;
  await writeSafetensors(inputs.dit, [
    { name: 'latents', dtype: 'F32', shape: [1, d.inDim, 2, 4, 4], data: seededNormal(d.inDim * 32, 3, 1) },
    { name: 'timesteps', dtype: 'F32', shape: [1, 2], data: Float32Array.of(0, 640) },
    { name: 'context', dtype: 'F32', shape: [1, 5, d.textDim], data: seededNormal(5 * d.textDim, 4, 1) },
  ]);
  await writeSafetensors(inputs.latents, [{ name: 'latents', dtype: 'F32', shape: [1, TINY.vae.zDim, 2, 1, 1], data: seededNormal(TINY.vae.zDim * 2, 5, 1) }]);
});

test('models create writes a package around loose official-layout safetensors: sizes, SHA-256s, the shipped config.json', async () => {
  const r = await cli(
    'models', 'create',
    '--arch', path.join(st.dir, 'config.json'),
    '--dit', path.join(st.dir, 'diffusion_pytorch_model.safetensors.index.json'),
    '--vae', path.join(st.dir, 'Wan2.2_VAE.safetensors'),
    '--t5', path.join(st.dir, 'models_t5_umt5-xxl-enc-bf16.safetensors'),
    '--tokenizer', path.join(st.dir, 'google', 'umt5-xxl'),
    '--out', pkg.created,
  );
  assert.equal(r.code, 0, JSON.stringify(r.json));
  // The shipped config.json describes the tiny DiT; the VAE and umT5 files are the tiny ones: the known name.
  assert.equal(r.json.architecture, 'tiny');
  assert.equal(r.json.layout, 'files');
  assert.equal(r.json.name, 'pkg-created');
  const { manifest } = await readManifest(pkg.created);
  assert.equal(manifest.architecture, 'tiny');
  const dit = manifest.components.dit!;
  assert.deepEqual(dit.files.map((f) => [path.basename(f.path), f.role ?? null]), [
    ['diffusion_pytorch_model.safetensors.index.json', 'index'],
    ['diffusion_pytorch_model-00001-of-00002.safetensors', null],
    ['diffusion_pytorch_model-00002-of-00002.safetensors', null],
    ['config.json', 'config'],
  ]);
  for (const f of [...dit.files, ...manifest.components.vae!.files, ...manifest.components.t5!.files, ...manifest.components.tokenizer!.files]) {
    const h = await hashFile(resolveFilePath(pkg.created, f));
    assert.deepEqual([f.bytes, f.sha256], [h.bytes, h.sha256], f.path);
  }
  assert.equal(manifest.components.vae!.files[0]!.format, 'safetensors');
  assert.equal(manifest.components.t5!.files[0]!.format, 'safetensors');
});

test('the .pth route, an import of the official layout with safetensors VAE/umT5, and a Diffusers import: all verify', async () => {
  for (const [dir, out] of [[pth.dir, pkg.pth], [st.dir, pkg.imported]] as const) {
    const r = await cli('models', 'import', dir, '--out', out);
    assert.equal(r.code, 0, JSON.stringify(r.json));
    assert.equal(r.json.architecture, 'tiny');
  }
  // --arch with the config.json as shipped gives the same package architecture as the inference.
  const withArch = await cli('models', 'import', st.dir, '--arch', path.join(st.dir, 'config.json'), '--out', path.join(root, 'pkg-imported-arch'));
  assert.equal(withArch.code, 0, JSON.stringify(withArch.json));
  assert.equal(withArch.json.architecture, 'tiny');
  const diffusers = await writeFakeDiffusers(path.join(root, 'Wan2.2-TI2V-5B-Diffusers'));
  assert.equal((await cli('models', 'import', diffusers.dir, '--out', pkg.diffusers)).code, 0);

  const vae = (p: string) => readManifest(p).then(({ manifest }) => manifest.components.vae!.files[0]!);
  assert.equal((await vae(pkg.pth)).format, 'pth');
  assert.equal((await vae(pkg.imported)).format, 'safetensors');
  assert.equal((await vae(pkg.diffusers)).keyLayout, 'diffusers');
  for (const p of Object.values(pkg)) {
    const v = await cli('models', 'verify', p);
    assert.equal(v.code, 0, JSON.stringify(v.json));
    assert.equal(v.json.ok, true);
  }
});

test('run dit, vae-decode and t5 give bit-identical outputs from every package (the DiT: both official-layout packages)', async () => {
  const run = async (component: string, p: string, ...args: string[]): Promise<string> => {
    const out = path.join(root, `${component}-${path.basename(p)}.safetensors`);
    const r = await cli('run', component, '--package', p, ...args, '--out', out, '--backend', 'cpu');
    assert.equal(r.code, 0, JSON.stringify(r.json));
    return out;
  };
  const ref = {
    velocity: await readOut(await run('dit', pkg.pth, '--inputs', inputs.dit), 'velocity'),
    video: await readOut(await run('vae-decode', pkg.pth, '--inputs', inputs.latents), 'video'),
    context: await readOut(await run('t5', pkg.pth, '--prompt', 'A woman is talking.'), 'context'),
  };
  for (const p of [pkg.created, pkg.imported, pkg.diffusers]) {
    // The Diffusers fixture stores its whole DiT in F32 (the original one has a BF16 shard), so only
    // the official-layout DiTs hold the same values; the Diffusers DiT is checked in run.test.ts.
    if (p !== pkg.diffusers) sameBits(await readOut(await run('dit', p, '--inputs', inputs.dit), 'velocity'), ref.velocity, `run dit ${path.basename(p)}`);
    sameBits(await readOut(await run('vae-decode', p, '--inputs', inputs.latents), 'video'), ref.video, `run vae-decode ${path.basename(p)}`);
    sameBits(await readOut(await run('t5', p, '--prompt', 'A woman is talking.'), 'context'), ref.context, `run t5 ${path.basename(p)}`);
  }
});

test('models create refuses a file given as the wrong component, an unsupported option in the config, and a missing --out', async () => {
  const wrong = await cli('models', 'create', '--dit', st.shards[0]!, '--dit', st.shards[1]!, '--vae', path.join(st.dir, 'models_t5_umt5-xxl-enc-bf16.safetensors'), '--out', path.join(root, 'pkg-wrong'));
  assert.equal(wrong.code, 1);
  assert.match(wrong.json.error as string, /--vae .*models_t5_umt5-xxl-enc-bf16\.safetensors holds umT5 text encoder tensors \(give it as --t5\), not the VAE/);

  const cfg = path.join(root, 'qk-config.json');
  writeFileSync(cfg, JSON.stringify({ ...officialConfigJson(TINY), qk_norm: false }));
  const qk = await cli('models', 'create', '--arch', cfg, '--dit', st.shards[0]!, '--dit', st.shards[1]!, '--out', path.join(root, 'pkg-qk'));
  assert.equal(qk.code, 1);
  assert.match(qk.json.error as string, /qk-config\.json[\s\S]*qk_norm false is not supported, only true/);

  // --arch 5B on tiny files: one sentence naming --arch.
  const big = await cli('models', 'create', '--arch', 'wan2.2-ti2v-5b', '--dit', st.shards[0]!, '--dit', st.shards[1]!, '--out', path.join(root, 'pkg-big'));
  assert.equal(big.code, 1);
  assert.match(big.json.error as string, /^the DiT files do not match --arch wan2\.2-ti2v-5b: they have dim 48, 2 blocks/);
  assert.deepEqual(big.json.problems, [big.json.error]);

  const noOut = await cli('models', 'create', '--dit', st.shards[0]!);
  assert.equal(noOut.code, 2);
  assert.match(noOut.err + JSON.stringify(noOut.json), /--out <pkgdir>/);
});

test('models create --wav2vec2 adds the speech front-end from a Hugging Face checkpoint and its config.json', async () => {
  const dir = path.join(root, 'wav2vec2-tiny');
  mkdirSync(dir);
  const c = { ...WAV2VEC2_BASE, convDim: [2, 2, 2, 2, 2, 2, 2], hiddenSize: 4, layers: 1, heads: 1, intermediateSize: 8, posConvKernel: 4, posConvGroups: 2 };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'wav2vec2', conv_dim: c.convDim, hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 8, num_conv_pos_embeddings: 4, num_conv_pos_embedding_groups: 2 }));
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensors(file, wav2vec2Params(c).map((p) => ({ name: `wav2vec2.${p.name}`, dtype: 'F32' as const, shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) })));
  const out = path.join(root, 'pkg-speech');
  const r = await cli('models', 'create', '--dit', st.shards[0]!, '--dit', st.shards[1]!, '--wav2vec2', file, '--out', out);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const { manifest } = await readManifest(out);
  const fe = manifest.components.speechFrontEnd!;
  assert.equal(fe.kind, 'wav2vec2');
  assert.deepEqual(fe.files.map((f) => [path.basename(f.path), f.format, f.role ?? null, f.tensors ?? null]), [
    ['model.safetensors', 'safetensors', null, wav2vec2Params(c).length],
    ['config.json', 'json', 'config', null],
  ]);
  assert.equal((await cli('models', 'verify', out)).json.ok, true);
  const bad = await cli('models', 'create', '--dit', st.shards[0]!, '--dit', st.shards[1]!, '--wav2vec2', path.join(st.dir, 'Wan2.2_VAE.safetensors'), '--out', path.join(root, 'pkg-speech-bad'));
  assert.equal(bad.code, 1);
  assert.match(bad.json.error as string, /--wav2vec2 .*Wan2\.2_VAE\.safetensors has no wav2vec2 feature extractor/);
});
