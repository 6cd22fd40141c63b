// Opens what a training run stands on: the base package (frozen weights, placed in its engine cache as
// external initializers exactly as generation places them), its identity hash, its cached text context
// and generation defaults, and — when the model given is itself an adapter (a fine-tuned package) — the
// adapter's trained values to start from.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelArchitecture } from '../model/config.js';
import { ditParams } from '../model/inventory/dit.js';
import { loadLora } from '../model/lora/io.js';
import type { LoraAdapter } from '../model/lora/adapter.js';
import { loraAName, loraBName } from '../model/lora/adapter.js';
import type { PreparedWeights } from '../model/package/engine-cache.js';
import { readManifest, resolveFilePath } from '../model/package/manifest.js';
import type { ModelSource } from '../model/package/source.js';
import { openPackageSource } from '../model/package/source.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { componentWeights } from '../model/run/common.js';
import { SafetensorsFile } from '../model/weights/safetensors.js';
import type { GenerationDefaults } from '../pipeline/defaults.js';
import { packageDefaults } from '../pipeline/defaults.js';
import { packageHash, preparationHash } from '../pipeline/model.js';
import type { TrainableSet } from './trainable.js';
import { TrainSettingsError, initialValues } from './trainable.js';

export interface TrainBase {
  /** The base package (never an adapter): its DiT is the frozen network. */
  src: ModelSource;
  dir: string;
  name: string;
  hash: string;
  /** The key its prepared datasets carry (VAE + speech front-end; pipeline/model.ts preparationHash). */
  dataHash: string;
  arch: ModelArchitecture;
  refree: ReFreeConfig;
  defaults: GenerationDefaults;
  /** [textLen·textDim], zero-padded. */
  context: Float32Array;
  /** The model given, when it is an adapter of `dir` (its trained values are the starting point). */
  adapter: { dir: string; name: string } | null;
}

async function readContext(src: ModelSource): Promise<Float32Array> {
  const { dit } = src.arch;
  const full = new Float32Array(dit.textLen * dit.textDim);
  for (const f of src.textContext) {
    const st = await SafetensorsFile.open(f);
    try {
      if (st.has('context')) {
        const c = await st.readF32('context');
        if (c.length > full.length) throw new TrainSettingsError(`the text context in ${f} has ${c.length} values; the DiT takes at most ${full.length}`);
        full.set(c);
        return full;
      }
    } finally {
      await st.close();
    }
  }
  throw new TrainSettingsError(`package "${src.name}" has no cached text context (components.textContext): run \`refree run t5\` once and add its output to the package`);
}

export async function openTrainBase(modelDir: string): Promise<TrainBase> {
  const st = await stat(modelDir).catch(() => null);
  if (!st) throw new TrainSettingsError(`the model package ${modelDir} does not exist`);
  const { dir, manifest } = await readManifest(modelDir);
  const baseDir = manifest.adapter ? manifest.adapter.base.dir : dir;
  const src = await openPackageSource(baseDir);
  const hash = packageHash(src);
  if (manifest.adapter && manifest.adapter.base.hash !== hash) {
    throw new TrainSettingsError(`the adapter ${dir} was trained on "${manifest.adapter.base.name}" (${manifest.adapter.base.hash.slice(0, 12)}), but ${baseDir} now has other files (${hash.slice(0, 12)}): restore the base package or train from it again`);
  }
  if (!src.refree) throw new TrainSettingsError(`package "${src.name}" has no ReFree speech adapter configuration (components.refree): it cannot be trained to animate from speech`);
  return {
    src,
    dir: baseDir,
    name: src.name,
    hash,
    dataHash: preparationHash(src),
    arch: src.arch,
    refree: src.refree,
    defaults: await packageDefaults(baseDir),
    context: await readContext(src),
    adapter: manifest.adapter ? { dir, name: manifest.name } : null,
  };
}

/** The frozen DiT weights in the base package's engine cache (graphs must be saved in `dir`). */
export async function frozenWeights(base: TrainBase, dtype: 'float32' | 'float16' = 'float32'): Promise<PreparedWeights> {
  return componentWeights(base.src, 'dit', ditParams(base.arch.dit), dtype, {}, ['refree.']);
}

/** The starting vector: the base's values, overwritten by the adapter's trained ones when there is one. */
export async function startingValues(base: TrainBase, set: TrainableSet, seed: number): Promise<Float32Array> {
  const ditFiles = (base.src.components.dit?.files ?? []).map((f) => f.path);
  const refreeFiles = (base.src.components.refree?.files ?? []).map((f) => f.path);
  if (!base.adapter) return initialValues(set, base.refree, { ditFiles, refreeFiles, seed });
  const { dir, manifest } = await readManifest(base.adapter.dir);
  const abs = (files: { path: string }[] | undefined): string[] => (files ?? []).map((f) => resolveFilePath(dir, f));
  const own = (files: string[]): string[] => files.filter((f) => path.dirname(f) === dir);
  const v = await initialValues(set, base.refree, { ditFiles: [...own(abs(manifest.components.dit?.files)), ...ditFiles], refreeFiles: abs(manifest.components.refree?.files), seed });
  // LoRA: the adapter's own file (the one inside its folder) gives A and B.
  const loraEntry = (manifest.components.lora ?? []).find((l) => l.files.some((f) => path.dirname(resolveFilePath(dir, f)) === dir));
  if (loraEntry && set.lora) {
    const file = resolveFilePath(dir, loraEntry.files[0]!);
    const { adapter }: { adapter: LoraAdapter } = await loadLora(file, { dit: base.arch.dit });
    for (const [module, m] of adapter) {
      for (const [name, data] of [
        [loraAName(module), m.a],
        [loraBName(module), m.b],
      ] as const) {
        if (!set.layout.has(name)) continue;
        const view = set.layout.view(v, name);
        if (view.length !== data.length) throw new TrainSettingsError(`the adapter's LoRA "${name}" has rank ${m.rank}; this run uses rank ${set.lora.rank}: train with the adapter's rank`);
        // A file stores B·(alpha/r) when alpha ≠ r (diffsynth); our graph applies alpha/r itself.
        const s = m.alpha / m.rank / ((set.lora.alpha ?? set.lora.rank) / set.lora.rank);
        view.set(name.endsWith('lora_B.weight') && s !== 1 ? Float32Array.from(data, (x) => x * s) : data);
      }
    }
  }
  return v;
}
