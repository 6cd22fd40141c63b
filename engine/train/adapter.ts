// The result of a training run: an adapter package. It is an ordinary model package (refree.json) so
// that everything that opens packages (generate, the studio, `refree run`, verify) opens it unchanged:
//   - dit / vae / t5 / tokenizer / text context / speech front-end: the BASE package's files, referenced
//     by absolute path and SHA-256 (nothing is copied; verify proves they are still the trained-on bytes);
//   - refree: the trained speech modules (refree.safetensors, in the adapter folder);
//   - lora: the trained LoRA (lora.safetensors, PEFT/DiffSynth names) when the run trained one;
//   - dit: for runs that trained DiT groups in full, a dit.safetensors holding the whole DiT with the
//     trained tensors replaced (small models only; their DiT is a few MB);
//   - adapter: { base: { name, hash, dir }, run, stage }.
// `refree models merge` folds the LoRA into the DiT weights to make a standalone package.
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DitConfig } from '../model/config.js';
import { ditParams } from '../model/inventory/dit.js';
import { adapterFromValues } from '../model/lora/adapter.js';
import { saveLora } from '../model/lora/io.js';
import type { FileEntry, Manifest } from '../model/package/manifest.js';
import { MANIFEST_FILE, readManifest, resolveFilePath, writeManifest } from '../model/package/manifest.js';
import { safetensorsEntry } from '../model/package/refree-manifest.js';
import { GENERATION_DEFAULTS_FILE } from '../pipeline/defaults.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';
import type { TrainableSet } from './trainable.js';

export interface AdapterInfo {
  name: string;
  base: { name: string; hash: string; dir: string };
  run: string;
  stage: string;
}

const absolute = (baseDir: string, files: readonly FileEntry[]): FileEntry[] => files.map((f) => ({ ...f, path: resolveFilePath(baseDir, f) }));

/** Writes the adapter package for `values` (the run's flat vector) into `outDir` (replaced atomically). */
export async function writeAdapterPackage(outDir: string, set: TrainableSet, values: Float32Array, dit: DitConfig, info: AdapterInfo): Promise<string> {
  const { dir: baseDir, manifest: base } = await readManifest(info.base.dir);
  const tmp = `${outDir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const view = (name: string): Float32Array => set.layout.view(values, name);
    const byKind = (k: string): string[] => set.layout.entries.filter((e) => set.kind.get(e.name) === k).map((e) => e.name);
    const c = base.components;
    const components: Manifest['components'] = {};
    for (const k of ['vae', 't5', 'tokenizer', 'textContext', 'speechFrontEnd'] as const) {
      const comp = c[k];
      if (comp) (components as Record<string, unknown>)[k] = { ...comp, files: absolute(baseDir, comp.files) };
    }
    // The speech modules.
    const refreeNames = byKind('refree');
    await writeSafetensors(path.join(tmp, 'refree.safetensors'), refreeNames.map((n) => ({ name: n, dtype: 'F32' as const, shape: set.layout.entry(n).shape, data: view(n) })), { metadata: { generator: 'refree train', stage: info.stage } });
    if (!c.refree) throw new Error('internal: the base package has no speech adapter config');
    components.refree = { keyLayout: 'original', config: c.refree.config, files: [await safetensorsEntry(tmp, 'refree.safetensors', refreeNames.length, 'original')] };
    // DiT groups trained in full: a whole DiT with those tensors replaced.
    const groups = byKind('dit');
    if (groups.length > 0) {
      const trained = new Set(groups);
      const files = (c.dit?.files ?? []).map((f) => resolveFilePath(baseDir, f)).filter((f) => f.endsWith('.safetensors'));
      const tensors: { name: string; dtype: 'F32'; shape: readonly number[]; data: Float32Array }[] = [];
      for (const p of ditParams(dit)) {
        if (trained.has(p.name)) {
          tensors.push({ name: p.name, dtype: 'F32', shape: p.shape, data: view(p.name) });
          continue;
        }
        let data: Float32Array | null = null;
        for (const f of files) {
          const st = await SafetensorsFile.open(f);
          try {
            if (st.has(p.name)) data = Float32Array.from(await st.readF32(p.name));
          } finally {
            await st.close();
          }
          if (data) break;
        }
        if (!data) throw new Error(`the base DiT has no "${p.name}" in a safetensors file (training DiT groups needs original-name safetensors weights)`);
        tensors.push({ name: p.name, dtype: 'F32', shape: p.shape, data });
      }
      await writeSafetensors(path.join(tmp, 'dit.safetensors'), tensors, { metadata: { generator: 'refree train', stage: info.stage } });
      components.dit = { keyLayout: 'original', files: [await safetensorsEntry(tmp, 'dit.safetensors', tensors.length, 'original')] };
    } else if (c.dit) components.dit = { ...c.dit, files: absolute(baseDir, c.dit.files) };
    // LoRA (PEFT / DiffSynth names).
    const loras = [...(c.lora ?? []).map((l) => ({ ...l, files: absolute(baseDir, l.files) }))];
    if (set.lora && byKind('lora').length > 0) {
      const adapter = adapterFromValues(dit, set.lora, (n) => (set.layout.has(n) ? Float32Array.from(view(n)) : undefined));
      const r = await saveLora(path.join(tmp, 'lora.safetensors'), adapter, { format: 'diffsynth', metadata: { generator: 'refree train', stage: info.stage } });
      loras.push({ name: `${info.name}-lora`, format: 'diffsynth', files: [await safetensorsEntry(tmp, 'lora.safetensors', r.keys.length, 'diffsynth')], multiplier: 1, enabled: true, config: { rank: set.lora.rank, alpha: set.lora.alpha ?? set.lora.rank, targets: (set.lora.targets ?? []).map(String) } });
    }
    if (loras.length) components.lora = loras;
    const manifest: Manifest = {
      format: base.format,
      name: info.name,
      version: base.version,
      architecture: base.architecture,
      components,
      adapter: { base: { name: info.base.name, hash: info.base.hash, dir: baseDir }, run: info.run, stage: info.stage },
      created: new Date().toISOString(),
      notes: [`fine-tuned from "${info.base.name}" (${info.base.hash.slice(0, 12)}) by the ${info.stage.toUpperCase()} run in ${info.run}`],
    };
    await writeManifest(tmp, manifest);
    await cp(path.join(baseDir, GENERATION_DEFAULTS_FILE), path.join(tmp, GENERATION_DEFAULTS_FILE)).catch(() => undefined);
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
    return path.join(outDir, MANIFEST_FILE);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
