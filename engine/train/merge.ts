// `refree models merge <adapter> --out <package>`: folds a fine-tuned adapter into a standalone package.
// The DiT becomes one safetensors file with every LoRA update W + (alpha/r)·B·A applied (and any DiT
// tensors the run trained in full), the speech modules are the adapter's, and the VAE, text context and
// speech front-end are copied from the base, so the new package no longer depends on either folder.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ditParams } from '../model/inventory/dit.js';
import { loadLora } from '../model/lora/io.js';
import { mergeLora } from '../model/lora/merge.js';
import type { LoraAdapter } from '../model/lora/adapter.js';
import type { FileEntry, Manifest } from '../model/package/manifest.js';
import { MANIFEST_FILE, readManifest, resolveFilePath, writeManifest } from '../model/package/manifest.js';
import { safetensorsEntry } from '../model/package/refree-manifest.js';
import { openPackageSource } from '../model/package/source.js';
import type { WeightEntry } from '../model/weight-provider.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';
import { GENERATION_DEFAULTS_FILE } from '../pipeline/defaults.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

async function copyEntry(fromDir: string, toDir: string, f: FileEntry): Promise<FileEntry> {
  const src = resolveFilePath(fromDir, f);
  const name = path.basename(src);
  await copyFile(src, path.join(toDir, name));
  return { ...f, path: name };
}

/** Folds an adapter into a standalone package in `outDir`, named `opts.name` (default "<adapter>-merged"). */
export async function mergeAdapter(adapterDir: string, outDir: string, opts: { name?: string } = {}): Promise<string> {
  const { dir, manifest: m } = await readManifest(adapterDir);
  if (!m.adapter) throw new MergeError(`${dir} is not a fine-tuned adapter (its refree.json has no "adapter" entry); only adapters can be merged`);
  const src = await openPackageSource(dir);
  const specs = ditParams(src.arch.dit);
  // The DiT as the adapter sees it (its own dit.safetensors when it trained DiT groups, else the base's).
  const weights = new Map<string, WeightEntry>();
  for (const f of src.components.dit?.files ?? []) {
    if (f.format !== 'safetensors') throw new MergeError(`the DiT file ${f.path} is not safetensors; merge needs safetensors weights with original names`);
    const st = await SafetensorsFile.open(f.path);
    try {
      for (const p of specs) {
        if (weights.has(p.name) || !st.has(p.name)) continue;
        weights.set(p.name, { dtype: 'float32', shape: p.shape, data: { kind: 'inline', data: Float32Array.from(await st.readF32(p.name)) } });
      }
    } finally {
      await st.close();
    }
  }
  const missing = specs.filter((p) => !weights.has(p.name));
  if (missing.length) throw new MergeError(`the DiT weights lack ${missing.length} tensor(s) under their original names (first: ${missing[0]!.name}); merge needs the original-name safetensors`);
  let merged = weights;
  for (const l of src.loras) {
    const { adapter }: { adapter: LoraAdapter } = await loadLora(l.file, { dit: src.arch.dit });
    merged = mergeLora(merged, adapter, { multiplier: l.multiplier });
  }
  const tmp = `${path.resolve(outDir)}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await writeSafetensors(
      path.join(tmp, 'dit.safetensors'),
      specs.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: (merged.get(p.name)!.data as { data: Float32Array }).data })),
      { metadata: { generator: 'refree models merge', adapter: m.name } },
    );
    const c = m.components;
    const components: Manifest['components'] = { dit: { keyLayout: 'original', files: [await safetensorsEntry(tmp, 'dit.safetensors', specs.length)] } };
    for (const k of ['vae', 't5', 'tokenizer', 'textContext', 'speechFrontEnd', 'refree'] as const) {
      const comp = c[k];
      if (!comp) continue;
      const files: FileEntry[] = [];
      for (const f of comp.files) files.push(await copyEntry(dir, tmp, f));
      (components as Record<string, unknown>)[k] = { ...comp, files };
    }
    const out: Manifest = {
      format: m.format,
      name: opts.name ?? `${m.name}-merged`,
      version: m.version,
      architecture: m.architecture,
      components,
      created: new Date().toISOString(),
      notes: [...(m.notes ?? []), `merged from the adapter ${dir} (LoRA folded into the DiT weights)`],
    };
    await writeManifest(tmp, out);
    await copyFile(path.join(dir, GENERATION_DEFAULTS_FILE), path.join(tmp, GENERATION_DEFAULTS_FILE)).catch(() => undefined);
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
    return path.join(outDir, MANIFEST_FILE);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
