// What a component runner needs to find a model: the architecture, each component's weight files,
// the tokenizer, adapters, and the engine cache folder. Two ways to get one:
//   - openPackageSource(dir): from a package's refree.json (file sizes checked against the manifest,
//     cheaply, at every open; `refree models verify` re-hashes);
//   - filesSource(arch, files): an architecture plus loose weight files (`--arch tiny --weights w.safetensors`),
//     for tests and quick experiments; every weights file is offered to every component.
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelArchitecture } from '../config.js';
import type { ReFreeConfig } from '../refree/config.js';
import type { FileEntry, FileFormat, Manifest } from './manifest.js';
import { engineCacheDir, readManifest, resolveArchitecture, resolveFilePath, resolveReFreeConfig } from './manifest.js';
import type { IndexFile } from './weight-index.js';

export type WeightComponent = 'dit' | 'vae' | 't5' | 'refree';

export interface ComponentFiles {
  files: IndexFile[];
  /** Identity of the bytes (keys converted-weight caches). */
  sourceId: string;
  /** False when the engine cannot read this component's naming (see notes). */
  loadable: boolean;
  notes: string[];
}

export interface LoraSource {
  name: string;
  file: string;
  multiplier: number;
}

export interface ModelSource {
  kind: 'package' | 'files';
  name: string;
  /** The package folder (null for loose files). */
  dir: string | null;
  manifest: Manifest | null;
  arch: ModelArchitecture;
  refree: ReFreeConfig | null;
  /** Root of the engine cache (engines/<dtype>/... below it). */
  engineDir: string;
  components: Partial<Record<WeightComponent, ComponentFiles>>;
  /** Folder with tokenizer.json (or a Wan folder with google/umt5-xxl/tokenizer.json). */
  tokenizerDir: string | null;
  /** Cached text-context safetensors files (with a `context` tensor). */
  textContext: string[];
  /** Enabled LoRA adapters, applied to the DiT at build time. */
  loras: LoraSource[];
  /** Where the T5 prompt cache lives (null: no caching). */
  promptCacheDir: string | null;
}

export class PackageFileError extends Error {
  override name = 'PackageFileError';
}

const WEIGHT_FORMATS: readonly FileFormat[] = ['safetensors', 'pth'];

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function checkedFiles(dir: string, component: string, files: readonly FileEntry[]): Promise<IndexFile[]> {
  const out: IndexFile[] = [];
  for (const f of files) {
    if (!WEIGHT_FORMATS.includes(f.format)) continue;
    const abs = resolveFilePath(dir, f);
    const st = await stat(abs).catch(() => null);
    if (!st) throw new PackageFileError(`${component}: ${abs} is missing (listed in ${path.join(dir, 'refree.json')}); restore the file or re-import the package`);
    if (st.size !== f.bytes) {
      throw new PackageFileError(`${component}: ${abs} is ${st.size} bytes but the package recorded ${f.bytes}; the file changed since import (run \`refree models verify ${dir}\`, then re-import)`);
    }
    out.push({ path: abs, format: f.format });
  }
  return out;
}

/** Opens a package folder (or its refree.json) for running. */
export async function openPackageSource(dirOrFile: string): Promise<ModelSource> {
  const { dir, manifest: m } = await readManifest(dirOrFile);
  const components: ModelSource['components'] = {};
  for (const name of ['dit', 'vae', 't5', 'refree'] as const) {
    const c = m.components[name];
    if (!c) continue;
    components[name] = {
      files: await checkedFiles(dir, name, c.files),
      sourceId: sha(c.files.map((f) => f.sha256).join(',')),
      loadable: c.loadable ?? true,
      notes: c.notes ?? [],
    };
  }
  const tok = m.components.tokenizer?.files.find((f) => path.basename(f.path) === 'tokenizer.json');
  const loras: LoraSource[] = [];
  for (const l of m.components.lora ?? []) {
    if (l.enabled === false) continue;
    const f = l.files.find((x) => x.format === 'safetensors');
    if (!f) throw new PackageFileError(`lora "${l.name}" lists no safetensors file`);
    const [checked] = await checkedFiles(dir, `lora "${l.name}"`, [f]);
    loras.push({ name: l.name, file: checked!.path, multiplier: l.multiplier ?? 1 });
  }
  return {
    kind: 'package',
    name: m.name,
    dir,
    manifest: m,
    arch: resolveArchitecture(m.architecture),
    refree: m.components.refree ? resolveReFreeConfig(m.components.refree.config) : null,
    engineDir: engineCacheDir(dir, m),
    components,
    tokenizerDir: tok ? path.dirname(resolveFilePath(dir, tok)) : null,
    textContext: (m.components.textContext?.files ?? []).filter((f) => f.format === 'safetensors').map((f) => resolveFilePath(dir, f)),
    loras,
    promptCacheDir: path.join(dir, 'cache', 'prompts'),
  };
}

export interface FilesSourceOptions {
  /** Engine cache root; default a folder under the OS temp dir keyed by the files. */
  engineDir?: string;
  refree?: ReFreeConfig | null;
  tokenizerDir?: string | null;
  loras?: LoraSource[];
}

/** Loose weight files for an architecture; each file is offered to every component. */
export async function filesSource(arch: ModelArchitecture, weights: readonly string[], opts: FilesSourceOptions = {}): Promise<ModelSource> {
  const files: IndexFile[] = [];
  const ids: string[] = [];
  for (const w of weights) {
    const abs = await realpath(w).catch(() => {
      throw new PackageFileError(`weights file ${path.resolve(w)} does not exist`);
    });
    const st = await stat(abs);
    const lower = abs.toLowerCase();
    const format: FileFormat | null = lower.endsWith('.safetensors') ? 'safetensors' : lower.endsWith('.pth') || lower.endsWith('.pt') || lower.endsWith('.ckpt') ? 'pth' : null;
    if (!format) throw new PackageFileError(`${abs}: weights must be .safetensors or .pth files`);
    files.push({ path: abs, format });
    ids.push(`${abs}:${st.size}:${st.mtimeMs}`);
  }
  const sourceId = sha(ids.join('|'));
  const comp: ComponentFiles = { files, sourceId, loadable: true, notes: [] };
  return {
    kind: 'files',
    name: arch.name,
    dir: null,
    manifest: null,
    arch,
    refree: opts.refree ?? null,
    engineDir: opts.engineDir ?? path.join(tmpdir(), 'refree-engines', sourceId.slice(0, 16)),
    components: { dit: comp, vae: comp, t5: comp, refree: comp },
    tokenizerDir: opts.tokenizerDir ?? null,
    textContext: [],
    loras: opts.loras ?? [],
    promptCacheDir: null,
  };
}
