// `refree run` end to end on a package imported from a fake Wan2.2 download (TINY weights): each
// component runs through the CLI entry (main) and must equal the same graph built directly with the
// weights held in memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AnyTypedArray } from '../graph/dtype.js';
import type { Graph } from '../graph/graph.js';
import { CompiledGraph } from '../runtime/session.js';
import { TINY } from '../model/config.js';
import { buildDitGraph } from '../model/dit/dit.js';
import { importWanFolder } from '../model/package/import.js';
import { readManifest, writeManifest } from '../model/package/manifest.js';
import { hashFile } from '../model/package/hash.js';
import { writeFakeDiffusers, writeFakeOriginal } from '../model/package/testing/fake-wan.js';
import type { FakeWan } from '../model/package/testing/fake-wan.js';
import { REFREE_TINY } from '../model/refree/config.js';
import { buildReFreeGraph } from '../model/refree/model.js';
import { refreeParams } from '../model/refree/params.js';
import { seededNormal } from '../model/random-weights.js';
import { fakeWeights } from '../model/package/testing/fake-wan.js';
import { VaeRunner } from '../model/vae/run.js';
import { adapterEntries, loraConfigFromAdapter } from '../model/lora/adapter.js';
import { initLoraAdapter, loraHook } from '../model/lora/hook.js';
import { saveLora } from '../model/lora/io.js';
import { padContext, withTextEncoder } from '../model/t5/text-encoder.js';
import { MapWeightProvider } from '../model/weight-provider.js';
import type { WeightEntry } from '../model/weight-provider.js';
import { bf16ToF32, f32ToBf16 } from '../graph/half.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';
import type { CliIO } from './command.js';
import { main } from './main.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-run-'));
after(() => rmSync(root, { recursive: true, force: true }));

function captureIO(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += `${t}\n`), stderr: (t: string) => void (io.err += t) };
  return io;
}

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown>; err: string }> {
  const io = captureIO();
  const code = await main([...args, '--json'], io);
  // Exit code 2 (bad command line) is main's own JSON error; everything else is one line from the command.
  if (code !== 2) assert.equal(io.out.trim().split('\n').length, 1, `one JSON line: ${io.out}`);
  return { code, json: JSON.parse(io.out) as Record<string, unknown>, err: io.err };
}

async function readOut(file: string, name: string): Promise<{ shape: number[]; data: Float32Array; meta: Record<string, string> }> {
  const st = await SafetensorsFile.open(file);
  try {
    return { shape: [...st.info(name).shape], data: Float32Array.from(await st.readF32(name)), meta: { ...st.metadata } };
  } finally {
    await st.close();
  }
}

async function runGraph(g: Graph, feeds: Record<string, AnyTypedArray>, output: string): Promise<Float32Array> {
  const c = await CompiledGraph.fromGraph(g, { backend: 'cpu' });
  try {
    return (await c.run(feeds))[output] as Float32Array;
  } finally {
    await c.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The weights as the files store them (shard 2 of the DiT is BF16), float32 inline entries. */
function entries(values: ReadonlyMap<string, Float32Array>, bf16?: (name: string) => boolean): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  const specs = new Map([...values].map(([k, v]) => [k, v]));
  for (const [k, v] of specs) {
    const data = bf16?.(k) ? bf16ToF32(f32ToBf16(v)) : v;
    out.set(k, { dtype: 'float32', shape: [], data: { kind: 'inline', data } });
  }
  return out;
}

function withShapes(e: Map<string, WeightEntry>, shapes: ReadonlyMap<string, readonly number[]>): Map<string, WeightEntry> {
  return new Map([...e].filter(([k]) => shapes.has(k)).map(([k, v]) => [k, { ...v, shape: shapes.get(k)! }]));
}

let fake: FakeWan;
let pkg: string;
const cfg = TINY.dit;
// Latent grid F=2, h=w=4 -> token grid 2x2x2 = 8 tokens (4 per frame).
const B = 1;
const F = 2;
const H = 4;
const W = 4;
const latents = seededNormal(B * cfg.inDim * F * H * W, 3, 1);
const frameT = [0, 640];
const tokenT = Float32Array.from({ length: 8 }, (_, i) => frameT[Math.floor(i / 4)]!);
const ctxRows = 5; // fewer than textLen (8): the runner zero-pads
const context = seededNormal(B * ctxRows * cfg.textDim, 4, 1);
const paddedContext = new Float32Array(cfg.textLen * cfg.textDim);
paddedContext.set(context);
let ditWeightsAsStored: Map<string, WeightEntry>;

before(async () => {
  fake = await writeFakeOriginal(path.join(root, 'Wan2.2-TI2V-5B'));
  pkg = path.join(root, 'pkg');
  await importWanFolder(fake.dir, { out: pkg });
  const { ditParams } = await import('../model/inventory/dit.js');
  const shapes = new Map(ditParams(cfg).map((p) => [p.name, p.shape]));
  const inShard2 = (n: string): boolean => n.startsWith('blocks.') && !n.startsWith('blocks.0.');
  ditWeightsAsStored = withShapes(entries(fake.dit, inShard2), shapes);
  await writeSafetensors(path.join(root, 'dit-in.safetensors'), [
    { name: 'latents', dtype: 'F32', shape: [B, cfg.inDim, F, H, W], data: latents },
    { name: 'timesteps', dtype: 'F32', shape: [B, 8], data: tokenT },
    { name: 'context', dtype: 'F32', shape: [B, ctxRows, cfg.textDim], data: context },
  ]);
});

test('run dit: CLI output equals buildDitGraph with the same weights; fp32 shard referenced in place, bf16 shard converted once', async () => {
  const out = path.join(root, 'dit-out.safetensors');
  const r = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.deepEqual(r.json.outputs, { velocity: [B, cfg.outDim, F, H, W] });
  assert.equal(r.json.backend, 'cpu');
  assert.equal(r.json.dtype, 'float32');
  const w = r.json.weights as { inPlace: number; converted: number; writtenBytes: number };
  // Shard 1 (F32: embeddings, block 0, head) in place; shard 2 (BF16: block 1) converted into the cache.
  assert.equal(w.inPlace, 15 + 27);
  assert.equal(w.converted, 27);
  assert.ok(w.writtenBytes > 0);
  const [engine] = r.json.engines as string[];
  assert.ok(engine!.startsWith(path.join(pkg, 'engines', 'float32', 'cpu.dit.b1-f2-h4-w4')), engine);
  const cached = await readdir(path.join(pkg, 'engines', 'float32', 'weights'));
  assert.ok(cached.some((f) => /^src-[0-9a-f]{12}-diffusion_pytorch_model-00001-of-00002\.safetensors$/.test(f)), cached.join(','));
  assert.ok(cached.some((f) => /^dit-[0-9a-f]{16}\.safetensors$/.test(f)), cached.join(','));

  const got = await readOut(out, 'velocity');
  assert.deepEqual(got.shape, [B, cfg.outDim, F, H, W]);
  assert.equal(got.meta.timesteps, 'per-token');
  const g = buildDitGraph(cfg, new MapWeightProvider(ditWeightsAsStored), { batch: B, frames: F, h: H, w: W });
  const direct = await runGraph(g, { latents, timesteps: Float32Array.from(frameT), context: paddedContext }, 'velocity');
  const diff = maxAbsDiff(got.data, direct);
  console.log(`  run dit vs buildDitGraph: max |diff| ${diff}`);
  assert.ok(diff <= 1e-6, `max diff ${diff}`);
  assert.ok(direct.some((v) => Math.abs(v) > 0.05), 'non-trivial output');

  // A second run reuses the converted weights (nothing written).
  const again = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal((again.json.weights as { writtenBytes: number }).writtenBytes, 0);
});

test('run dit --dtype float16: every weight converted into engines/float16, velocity close to float32', async () => {
  const out = path.join(root, 'dit-out-f16.safetensors');
  const r = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu', '--dtype', 'float16');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json.dtype, 'float16');
  assert.deepEqual([(r.json.weights as { inPlace: number }).inPlace, (r.json.weights as { converted: number }).converted], [0, 69]);
  assert.ok((r.json.engines as string[])[0]!.includes(`${path.sep}engines${path.sep}float16${path.sep}`));
  const half = (await readOut(out, 'velocity')).data;
  const full = (await readOut(path.join(root, 'dit-out.safetensors'), 'velocity')).data;
  const scale = full.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const diff = maxAbsDiff(half, full);
  console.log(`  float16 vs float32 engine: max |diff| ${diff.toExponential(2)} (max |v| ${scale.toFixed(2)})`);
  assert.ok(diff > 0 && diff <= 2e-3 * scale, `diff ${diff}`);
});

test('run dit with --arch tiny --weights (no package) gives the same velocity; bad inputs name the tensor', async () => {
  const out = path.join(root, 'dit-out-arch.safetensors');
  const r = await cli('run', 'dit', '--arch', 'tiny', '--weights', fake.shards[0]!, '--weights', fake.shards[1]!, '--engine-dir', path.join(root, 'adhoc-engines'), '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const a = await readOut(out, 'velocity');
  const b = await readOut(path.join(root, 'dit-out.safetensors'), 'velocity');
  assert.equal(maxAbsDiff(a.data, b.data), 0);

  await writeSafetensors(path.join(root, 'bad-in.safetensors'), [{ name: 'latent', dtype: 'F32', shape: [1], data: Float32Array.of(0) }]);
  const bad = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'bad-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(bad.code, 1);
  assert.match(bad.json.error as string, /has no tensor named "latents" \(expected latents \[B,C,F,h,w\]; it has: latent\)/);
  const usage = await cli('run', 'dit', '--inputs', path.join(root, 'bad-in.safetensors'), '--out', out);
  assert.equal(usage.code, 2);
  assert.match(usage.json.error as string, /--package <dir>, or --arch <name> --weights <file>/);
});

test('run dit with speech: a package with a ReFree adapter equals buildReFreeGraph', async () => {
  const specs = refreeParams(REFREE_TINY);
  const adapter = fakeWeights(specs, 21); // random (not zero-init), so speech changes the output
  const file = path.join(pkg, 'refree-adapter.safetensors');
  await writeSafetensors(file, specs.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: adapter.get(p.name)! })));
  const { manifest } = await readManifest(pkg);
  const h = await hashFile(file);
  manifest.components.refree = { config: 'refree-tiny', keyLayout: 'original', files: [{ path: 'refree-adapter.safetensors', format: 'safetensors', keyLayout: 'original', dtype: 'F32', bytes: h.bytes, sha256: h.sha256, tensors: specs.length }] };
  await writeManifest(pkg, manifest);

  const Tv = 4 * (F - 1) + 1;
  const speech = seededNormal(B * Tv * REFREE_TINY.speechDim, 5, 1);
  const input = path.join(root, 'dit-speech-in.safetensors');
  await writeSafetensors(input, [
    { name: 'latents', dtype: 'F32', shape: [B, cfg.inDim, F, H, W], data: latents },
    { name: 'timesteps', dtype: 'F32', shape: [B, F], data: Float32Array.from(frameT) },
    { name: 'context', dtype: 'F32', shape: [B, ctxRows, cfg.textDim], data: context },
    { name: 'speech', dtype: 'F32', shape: [B, Tv, REFREE_TINY.speechDim], data: speech },
  ]);
  const out = path.join(root, 'dit-speech-out.safetensors');
  const r = await cli('run', 'dit', '--package', pkg, '--inputs', input, '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const got = await readOut(out, 'velocity');
  assert.equal(got.meta.speech, 'true');
  assert.equal(got.meta.timesteps, 'per-frame');
  const shapes = new Map(specs.map((p) => [p.name, p.shape]));
  const all = new Map([...ditWeightsAsStored, ...withShapes(entries(adapter), shapes)]);
  const g = buildReFreeGraph(cfg, REFREE_TINY, new MapWeightProvider(all), { batch: B, frames: F, h: H, w: W });
  const direct = await runGraph(g, { latents, timesteps: Float32Array.from(frameT), context: paddedContext, speech_features: speech }, 'velocity');
  const diff = maxAbsDiff(got.data, direct);
  console.log(`  run dit + speech vs buildReFreeGraph: max |diff| ${diff}`);
  assert.ok(diff <= 1e-6, `max diff ${diff}`);
  const plain = await readOut(path.join(root, 'dit-out.safetensors'), 'velocity');
  assert.ok(maxAbsDiff(plain.data, got.data) > 1e-3, 'the speech adapter changes the velocity');
});

test('run dit with an enabled LoRA from the package equals buildDitGraph with the LoRA hook; a disabled one is ignored', async () => {
  const adapter = initLoraAdapter(cfg, { rank: 2, alpha: 4, targets: ['q', 'ffn.0'] }, 13, { b: 'random', bStd: 0.2 });
  const file = path.join(pkg, 'lora', 'style.safetensors');
  mkdirSync(path.dirname(file), { recursive: true });
  await saveLora(file, adapter, { format: 'kohya' });
  const h = await hashFile(file);
  const { manifest } = await readManifest(pkg);
  const entry = { path: 'lora/style.safetensors', format: 'safetensors' as const, keyLayout: 'kohya' as const, dtype: 'F32', bytes: h.bytes, sha256: h.sha256 };
  manifest.components.lora = [{ name: 'style', format: 'kohya', multiplier: 0.5, files: [entry] }];
  await writeManifest(pkg, manifest);
  const out = path.join(root, 'dit-lora-out.safetensors');
  const r = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const got = await readOut(out, 'velocity');
  assert.equal(got.meta.loras, 'style');
  const hook = loraHook(loraConfigFromAdapter(adapter, 0.5), new MapWeightProvider(adapterEntries(adapter)));
  const g = buildDitGraph(cfg, new MapWeightProvider(ditWeightsAsStored), { batch: B, frames: F, h: H, w: W }, { linear: hook });
  const direct = await runGraph(g, { latents, timesteps: Float32Array.from(frameT), context: paddedContext }, 'velocity');
  const diff = maxAbsDiff(got.data, direct);
  console.log(`  run dit + LoRA vs buildDitGraph(linear: loraHook): max |diff| ${diff}`);
  assert.ok(diff <= 1e-6, `max diff ${diff}`);
  const plain = await readOut(path.join(root, 'dit-out.safetensors'), 'velocity');
  assert.ok(maxAbsDiff(plain.data, got.data) > 1e-4, 'the LoRA changes the velocity');
  // describe on the package counts the adapter (from the file header) and the ReFree adapter.
  const d = await cli('models', 'describe', pkg);
  const lora = d.json.lora as { parameters: number; adapters: { name: string; rank: number }[] };
  const expectLora = [...adapter.values()].reduce((a, m) => a + m.rank * (m.inFeatures + m.outFeatures), 0);
  assert.equal(lora.parameters, expectLora);
  assert.deepEqual(lora.adapters.map((x) => [x.name, x.rank]), [['style', 2]]);
  assert.equal((d.json.refree as { parameters: number }).parameters, [...refreeParams(REFREE_TINY)].reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));

  manifest.components.lora = [{ name: 'style', format: 'kohya', enabled: false, files: [entry] }];
  await writeManifest(pkg, manifest);
  const off = await cli('run', 'dit', '--package', pkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(off.code, 0);
  assert.equal(maxAbsDiff((await readOut(out, 'velocity')).data, plain.data), 0);
});

test('run vae-encode then vae-decode: shapes follow the frame/size rules and equal VaeRunner with in-memory weights', async () => {
  const vcfg = TINY.vae;
  const T = 5;
  const S = 16;
  const video = Float32Array.from(seededNormal(3 * T * S * S, 6, 0.5), (v) => Math.tanh(v));
  const vin = path.join(root, 'vae-in.safetensors');
  await writeSafetensors(vin, [{ name: 'video', dtype: 'F32', shape: [1, 3, T, S, S], data: video }]);
  const lout = path.join(root, 'latents.safetensors');
  const enc = await cli('run', 'vae-encode', '--package', pkg, '--inputs', vin, '--out', lout, '--backend', 'cpu');
  assert.equal(enc.code, 0, JSON.stringify(enc.json));
  assert.deepEqual(enc.json.outputs, { latents: [1, vcfg.zDim, 2, 1, 1] });
  // The .pth stores its F32 tensors uncompressed: every VAE weight is referenced in place.
  assert.equal((enc.json.weights as { converted: number }).converted, 0);
  const lat = await readOut(lout, 'latents');

  const { vaeParams } = await import('../model/inventory/vae.js');
  const shapes = new Map(vaeParams(vcfg).map((p) => [p.name, p.shape]));
  const runner = new VaeRunner(vcfg, new MapWeightProvider(withShapes(entries(fake.vae), shapes)), { height: S, width: S, keepSessions: true });
  try {
    const direct = await runner.encode({ data: video, shape: [1, 3, T, S, S] });
    const diff = maxAbsDiff(lat.data, direct.data);
    console.log(`  vae-encode vs VaeRunner: max |diff| ${diff}`);
    assert.ok(diff <= 1e-5, `encode diff ${diff}`);

    const vout = path.join(root, 'video-out.safetensors');
    const dec = await cli('run', 'vae-decode', '--package', pkg, '--inputs', lout, '--out', vout, '--backend', 'cpu');
    assert.equal(dec.code, 0, JSON.stringify(dec.json));
    assert.deepEqual(dec.json.outputs, { video: [1, 3, T, S, S] });
    const pix = await readOut(vout, 'video');
    const directPix = await runner.decode({ data: lat.data, shape: [1, vcfg.zDim, 2, 1, 1] });
    const d2 = maxAbsDiff(pix.data, directPix.data);
    console.log(`  vae-decode vs VaeRunner: max |diff| ${d2}`);
    assert.ok(d2 <= 1e-5, `decode diff ${d2}`);
  } finally {
    await runner.release();
  }

  const bad = await cli('run', 'vae-encode', '--package', pkg, '--inputs', lout, '--out', path.join(root, 'x.safetensors'), '--backend', 'cpu');
  assert.equal(bad.code, 1);
  assert.match(bad.json.error as string, /has no tensor named "video"/);
});

test('run t5: encodes a prompt with the package tokenizer and bf16 umT5 weights (converted into the engine cache)', async () => {
  const out = path.join(root, 't5-out.safetensors');
  const r = await cli('run', 't5', '--package', pkg, '--prompt', 'A woman is talking.', '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.deepEqual(r.json.outputs, { context: [1, cfg.textLen, TINY.t5!.dim], tokens: [1, cfg.textLen], mask: [1, cfg.textLen], length: [1] });
  assert.equal((r.json.weights as { inPlace: number }).inPlace, 0);
  const c = await readOut(out, 'context');
  assert.deepEqual(c.shape, [1, cfg.textLen, TINY.t5!.dim]);
  assert.ok(c.data.some((v) => v !== 0));
  assert.equal(c.meta.prompt, 'A woman is talking.');
  // The same prompt through the T5 module with the weights in memory (bf16-rounded, as the .pth stores them).
  const { t5Params } = await import('../model/inventory/t5.js');
  const shapes = new Map(t5Params(TINY.t5!).map((p) => [p.name, p.shape]));
  const direct = await withTextEncoder(
    { t5: TINY.t5!, weights: new MapWeightProvider(withShapes(entries(fake.t5, () => true), shapes)), tokenizer: fake.dir, modelHash: 'x', textLen: cfg.textLen },
    (enc) => enc.encodePrompt('A woman is talking.'),
  );
  const d = maxAbsDiff(c.data, padContext(direct, cfg.textLen));
  console.log(`  run t5 vs T5TextEncoder: max |diff| ${d}`);
  assert.ok(d <= 1e-5, `t5 diff ${d}`);
});

test('Diffusers package: the DiT and the VAE run from Diffusers names', async () => {
  const d = await writeFakeDiffusers(path.join(root, 'diffusers'));
  const dpkg = path.join(root, 'pkg-diffusers');
  await importWanFolder(d.dir, { out: dpkg });
  const out = path.join(root, 'dit-out-diffusers.safetensors');
  const r = await cli('run', 'dit', '--package', dpkg, '--inputs', path.join(root, 'dit-in.safetensors'), '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const { ditParams } = await import('../model/inventory/dit.js');
  const shapes = new Map(ditParams(cfg).map((p) => [p.name, p.shape]));
  const g = buildDitGraph(cfg, new MapWeightProvider(withShapes(entries(d.dit), shapes)), { batch: B, frames: F, h: H, w: W });
  const direct = await runGraph(g, { latents, timesteps: Float32Array.from(frameT), context: paddedContext }, 'velocity');
  assert.ok(maxAbsDiff((await readOut(out, 'velocity')).data, direct) <= 1e-6);

  // Without `context` in the inputs, the package's cached text context is used.
  const ctxFile = path.join(dpkg, 'text-context.safetensors');
  await writeSafetensors(ctxFile, [{ name: 'context', dtype: 'F32', shape: [1, ctxRows, cfg.textDim], data: context }]);
  const { manifest } = await readManifest(dpkg);
  const h = await hashFile(ctxFile);
  manifest.components.textContext = { files: [{ path: 'text-context.safetensors', format: 'safetensors', keyLayout: 'none', dtype: 'F32', bytes: h.bytes, sha256: h.sha256, tensors: 1 }] };
  await writeManifest(dpkg, manifest);
  const noCtx = path.join(root, 'dit-in-noctx.safetensors');
  await writeSafetensors(noCtx, [
    { name: 'latents', dtype: 'F32', shape: [B, cfg.inDim, F, H, W], data: latents },
    { name: 'timesteps', dtype: 'F32', shape: [B, F], data: Float32Array.from(frameT) },
  ]);
  const out2 = path.join(root, 'dit-out-cached-ctx.safetensors');
  assert.equal((await cli('run', 'dit', '--package', dpkg, '--inputs', noCtx, '--out', out2, '--backend', 'cpu')).code, 0);
  assert.equal(maxAbsDiff((await readOut(out2, 'velocity')).data, direct), 0);

  // The VAE in Diffusers AutoencoderKLWan names decodes exactly as the original Wan2.2_VAE.pth does.
  const y = path.join(root, 'video-out-diffusers.safetensors');
  const v = await cli('run', 'vae-decode', '--package', dpkg, '--inputs', path.join(root, 'latents.safetensors'), '--out', y, '--backend', 'cpu');
  assert.equal(v.code, 0, JSON.stringify(v.json));
  assert.equal(maxAbsDiff((await readOut(y, 'video')).data, (await readOut(path.join(root, 'video-out.safetensors'), 'video')).data), 0);
});
