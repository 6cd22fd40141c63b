// A package with another decoder: a copy of a complete package whose VAE file is replaced by one from a
// decoder-only run (`refree train vae --decoder-only`). The encoder half must be bit-identical to the
// package's, so the latent space — and every DiT, dataset and adapter made with it — stays the same;
// the decoder may be wider (the manifest's decDim follows the file). The copy drops the engine cache
// and the fitted preview map (both belong to the old VAE) and the model card, and is written atomically.
import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VaeConfig } from '../../model/config.js';
import { vaeDecoderParams, vaeEncoderParams } from '../../model/inventory/vae.js';
import { DEFAULT_ENGINE_CACHE, MANIFEST_FILE, readManifest, writeManifest } from '../../model/package/manifest.js';
import type { Manifest } from '../../model/package/manifest.js';
import { safetensorsEntry } from '../../model/package/refree-manifest.js';
import { SafetensorsFile } from '../../model/weights/safetensors.js';
import { PREVIEW_FILE } from '../../generate/preview-fit.js';

export class DecoderSwapError extends Error {
  override name = 'DecoderSwapError';
}

const VAE_FILE = 'vae.safetensors';
const MODEL_CARD = 'README.md';

/** The decoder width a VAE file was trained with (its first decoder convolution's output channels ÷ the top multiplier). */
async function decoderWidth(cfg: VaeConfig, file: string): Promise<number> {
  const st = await SafetensorsFile.open(file);
  try {
    for (const p of vaeDecoderParams(cfg)) {
      if (!st.has(p.name)) throw new DecoderSwapError(`${file} lacks the decoder tensor "${p.name}": it is not a VAE of this package's design`);
    }
    return st.info('decoder.conv1.weight').shape[0]! / cfg.dimMult[cfg.dimMult.length - 1]!;
  } finally {
    await st.close();
  }
}

/** Throws unless every encoder tensor of `a` equals `b`'s bit for bit. */
async function sameEncoder(cfg: VaeConfig, a: string, b: string): Promise<void> {
  const [fa, fb] = [await SafetensorsFile.open(a), await SafetensorsFile.open(b)];
  try {
    for (const p of vaeEncoderParams(cfg)) {
      if (!fb.has(p.name)) throw new DecoderSwapError(`${b} lacks the encoder tensor "${p.name}"`);
      const [x, y] = [await fa.readF32(p.name), await fb.readF32(p.name)];
      if (x.length !== y.length || x.some((v, i) => !Object.is(v, y[i]))) {
        throw new DecoderSwapError(`${b}'s encoder differs from the package's ("${p.name}"): only a decoder trained with --decoder-only against this package's VAE keeps its latent space`);
      }
    }
  } finally {
    await fa.close();
    await fb.close();
  }
}

/** The sha256 of every file the manifest lists, VAE excepted, by component: what the copy must keep. */
function otherHashes(m: Manifest): string {
  const { vae: _vae, lora, ...single } = m.components;
  return JSON.stringify([...Object.entries(single).map(([k, c]) => [k, c.files.map((f) => f.sha256)]), ...(lora ?? []).map((l) => [l.name, l.files.map((f) => f.sha256)])]);
}

/** Whether `outDir` already holds this result: the same VAE and other weights, and the same plain files. */
async function upToDate(srcDir: string, manifest: Manifest, outDir: string, vaeSha: string, plain: readonly string[]): Promise<boolean> {
  const done = await readManifest(outDir).catch(() => null);
  if (!done || done.manifest.components.vae?.files[0]?.sha256 !== vaeSha || otherHashes(done.manifest) !== otherHashes(manifest)) return false;
  for (const f of plain) {
    const [a, b] = [await readFile(path.join(srcDir, f)), await readFile(path.join(outDir, f)).catch(() => null)];
    if (!b || !a.equals(b)) return false;
  }
  return true;
}

/**
 * Writes `outDir`: the package in `srcDir` with its VAE file replaced by `vaeFile`. Returns false (and
 * writes nothing) when `outDir` already holds that result.
 */
export async function writeWithDecoder(srcDir: string, vaeFile: string, outDir: string, note: string): Promise<boolean> {
  const { manifest } = await readManifest(srcDir);
  const vae = manifest.components.vae;
  const arch = manifest.architecture;
  if (!vae || vae.files.length !== 1 || typeof arch === 'string') throw new DecoderSwapError(`${srcDir} has no single-file VAE of a described architecture to replace`);
  const { lora, ...single } = manifest.components;
  for (const c of [...Object.values(single), ...(lora ?? [])]) {
    for (const file of c.files) {
      if (!path.isAbsolute(file.path) && path.dirname(file.path) !== '.') throw new DecoderSwapError(`${srcDir} keeps "${file.path}" in a subfolder; merge the package first`);
    }
  }
  const cfg = arch.vae;
  await sameEncoder(cfg, path.resolve(srcDir, vae.files[0]!.path), vaeFile);
  const decDim = await decoderWidth(cfg, vaeFile);
  const outCfg: VaeConfig = { ...cfg, decDim };
  const entry = await safetensorsEntry(path.dirname(path.resolve(vaeFile)), path.basename(vaeFile), vaeEncoderParams(outCfg).length + vaeDecoderParams(outCfg).length);
  const copied: string[] = [];
  for (const f of await readdir(srcDir)) {
    // The model card describes the source package; the copy gets its own.
    if (f === MANIFEST_FILE || f === VAE_FILE || f === PREVIEW_FILE || f === MODEL_CARD || f === DEFAULT_ENGINE_CACHE || f.endsWith('.tmp')) continue;
    if ((await stat(path.join(srcDir, f))).isFile()) copied.push(f);
  }
  const listed = new Set([...Object.values(single), ...(lora ?? [])].flatMap((c) => c.files.map((file) => file.path)));
  if (await upToDate(srcDir, manifest, outDir, entry.sha256, copied.filter((f) => !listed.has(f)))) return false;

  const tmp = `${outDir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const f of copied) await copyFile(path.join(srcDir, f), path.join(tmp, f));
    await copyFile(vaeFile, path.join(tmp, VAE_FILE));
    await writeManifest(tmp, {
      ...manifest,
      architecture: { ...arch, vae: { ...arch.vae, decDim } },
      components: { ...manifest.components, vae: { ...vae, files: [{ ...entry, path: VAE_FILE }] } },
      created: new Date().toISOString(),
      notes: [...(manifest.notes ?? []), note],
    });
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return true;
}
