import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { vaeDecoderParams, vaeEncoderParams } from '../../model/inventory/vae.js';
import { readManifest } from '../../model/package/manifest.js';
import { verifyPackage } from '../../model/package/verify.js';
import { randomWeights } from '../../model/random-weights.js';
import { SafetensorsFile, writeSafetensors } from '../../model/weights/safetensors.js';
import type { VaeConfig } from '../../model/config.js';
import { tinyRandomPackage } from '../../pipeline/testing/random-package.js';
import { DecoderSwapError, writeWithDecoder } from './with-decoder.js';

let dir: string;
let pkg: string;
let cfg: VaeConfig;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'refree-with-decoder-'));
  pkg = await tinyRandomPackage({ dir: path.join(dir, 'pkg') });
  const { manifest } = await readManifest(pkg);
  cfg = (manifest.architecture as { vae: VaeConfig }).vae;
  // What belongs to the old VAE and must not travel: the engine cache and the fitted preview map.
  await mkdir(path.join(pkg, 'engines'), { recursive: true });
  await writeFile(path.join(pkg, 'preview.json'), '{}');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A VAE file with the package's encoder (or a fresh one) and a fresh decoder of width decDim. */
async function vaeFile(name: string, decDim: number, keepEncoder: boolean): Promise<string> {
  const st = await SafetensorsFile.open(path.join(pkg, 'vae.safetensors'));
  const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[] = [];
  try {
    const fresh = randomWeights(vaeEncoderParams(cfg), 99);
    for (const p of vaeEncoderParams(cfg)) {
      const data = keepEncoder ? Float32Array.from(await st.readF32(p.name)) : (fresh.get(p.name)!.data as { data: Float32Array }).data;
      tensors.push({ name: p.name, dtype: 'F32', shape: [...p.shape], data });
    }
  } finally {
    await st.close();
  }
  const wide = { ...cfg, decDim };
  for (const [n, e] of randomWeights(vaeDecoderParams(wide), 7)) tensors.push({ name: n, dtype: 'F32', shape: [...e.shape], data: (e.data as { data: Float32Array }).data });
  const file = path.join(dir, name);
  await writeSafetensors(file, tensors.map((t) => ({ ...t, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) })));
  return file;
}

test('a decoder trained against the package\'s encoder replaces its VAE file; the copy verifies and records the width', async () => {
  const wider = await vaeFile('wide.safetensors', cfg.decDim * 2, true);
  const out = path.join(dir, 'out');
  assert.equal(await writeWithDecoder(pkg, wider, out, 'decoder from a test'), true);
  const report = await verifyPackage(out);
  assert.ok(report.ok, report.problems.join('; '));
  const { manifest } = await readManifest(out);
  assert.equal((manifest.architecture as { vae: VaeConfig }).vae.decDim, cfg.decDim * 2);
  assert.equal(manifest.notes?.at(-1), 'decoder from a test');
  const files = await readdir(out);
  assert.ok(!files.includes('engines') && !files.includes('preview.json'), files.join(', '));
  for (const f of ['dit.safetensors', 'refree.safetensors', 'generation.json']) assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  // Done already: nothing is written again.
  assert.equal(await writeWithDecoder(pkg, wider, out, 'decoder from a test'), false);
  // A plain file of the source changed (its sampler settings): the copy is made again with it.
  const settings = await readFile(path.join(pkg, 'generation.json'), 'utf8');
  try {
    await writeFile(path.join(pkg, 'generation.json'), settings.replace(/\n$/, ' \n'));
    assert.equal(await writeWithDecoder(pkg, wider, out, 'decoder from a test'), true);
    assert.equal(await readFile(path.join(out, 'generation.json'), 'utf8'), settings.replace(/\n$/, ' \n'));
  } finally {
    await writeFile(path.join(pkg, 'generation.json'), settings);
  }
});

test('a VAE whose encoder differs is refused, and nothing is written', async () => {
  const other = await vaeFile('other.safetensors', cfg.decDim, false);
  const out = path.join(dir, 'refused');
  await assert.rejects(writeWithDecoder(pkg, other, out, 'x'), (e: unknown) => e instanceof DecoderSwapError && /encoder differs from the package's/.test((e as Error).message));
  assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('refused')), []);
});
