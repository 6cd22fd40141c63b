// `refree models import <dir>` and `refree models create`: turn a Wan2.2-TI2V-5B download (or loose
// weight files) into a model package that REFERENCES its files (no copy of the multi-GB weights):
// detect the layout, settle the architecture (a name, the model's own config.json, or the known one the
// DiT files match), check every DiT, VAE and umT5 key against its inventory through the key maps, hash
// every file (streamed, with progress), and write refree.json.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelArchitecture } from '../config.js';
import { ARCHITECTURES, WAN22_TI2V_5B } from '../config.js';
import type { ParamSpec } from '../inventory/types.js';
import { ditParams } from '../inventory/dit.js';
import { t5Params } from '../inventory/t5.js';
import { vaeParams } from '../inventory/vae.js';
import type { DetectedFile, DetectedFolder } from './detect.js';
import { detectWanFolder } from './detect.js';
import { ditSizes, sizeDifference } from './dit-sizes.js';
import type { ProgressFn } from './hash.js';
import { hashFiles } from './hash.js';
import type { FileEntry, KeyLayout, Manifest, WeightsComponent } from './manifest.js';
import { DEFAULT_ENGINE_CACHE, MANIFEST_FORMAT, architectureFromDit, readManifest, recordPath, writeManifest } from './manifest.js';
import { OfficialConfigError, ditConfigFromOfficial, isOfficialDitConfig } from './official-config.js';
import type { WeightKind } from './weight-index.js';
import { WeightIndex } from './weight-index.js';

export interface ImportOptions {
  /** Package folder to write (default: ./<name>). */
  out?: string;
  /** Package name (default: the download folder's name). */
  name?: string;
  /** Architecture; default: the known one the DiT files match, else the folder's config.json. */
  arch?: ModelArchitecture;
  /**
   * `arch` came from a shipped DiT config.json, which says nothing of the VAE and umT5: their sizes are
   * then taken from the known architecture whose inventory the files match.
   */
  ditOnly?: boolean;
  /** Accept DiT/VAE/T5 keys that are not parameters of the architecture (reported, not fatal). */
  allowUnknownKeys?: boolean;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export interface ComponentReport {
  files: number;
  bytes: number;
  tensors: number;
  keyLayout: KeyLayout;
  dtype: string | null;
}

export interface ImportReport {
  ok: true;
  package: string;
  manifest: string;
  name: string;
  architecture: string;
  layout: DetectedFolder['layout'];
  components: Record<string, ComponentReport>;
  /** Keys in the files that are not parameters (only with allowUnknownKeys). */
  unknownKeys: Record<string, string[]>;
  hashedBytes: number;
  seconds: number;
  notes: string[];
}

export class ImportError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0]! : `the import found ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ImportError';
  }
}

const weightFiles = (files: readonly DetectedFile[]) => files.filter((f) => f.format === 'safetensors' || f.format === 'pth');

function inventory(kind: WeightKind, arch: ModelArchitecture): ParamSpec[] {
  if (kind === 'dit') return ditParams(arch.dit);
  if (kind === 'vae') return vaeParams(arch.vae);
  if (kind === 't5') {
    if (!arch.t5) throw new ImportError([`architecture ${arch.name} has no text encoder, but the folder has umT5 weights`]);
    return t5Params(arch.t5);
  }
  throw new Error(`no inventory for ${kind}`);
}

/** Whether the files hold exactly this inventory (nothing missing, no shape off). */
async function matches(kind: WeightKind, files: readonly DetectedFile[], specs: readonly ParamSpec[]): Promise<boolean> {
  const idx = await WeightIndex.open(kind, weightFiles(files), specs);
  try {
    return idx.missing.length === 0 && idx.shapeMismatches.length === 0;
  } finally {
    await idx.close();
  }
}

/** The known architecture whose DiT inventory and sizes (block count included) the files match, else null. */
async function inferArchitecture(files: readonly DetectedFile[]): Promise<ModelArchitecture | null> {
  for (const arch of Object.values(ARCHITECTURES)) {
    const idx = await WeightIndex.open('dit', weightFiles(files), ditParams(arch.dit));
    try {
      if (!idx.missing.length && !idx.shapeMismatches.length && !sizeDifference(ditSizes(idx, arch.dit.patch), arch.dit)) return arch;
    } finally {
      await idx.close();
    }
  }
  return null;
}

/** An architecture around `dit` whose VAE and umT5 are the known ones the files match (else Wan2.2's). */
async function withMatchingVaeT5(dit: ModelArchitecture['dit'], found: DetectedFolder): Promise<ModelArchitecture> {
  let vae = WAN22_TI2V_5B.vae;
  let t5 = WAN22_TI2V_5B.t5;
  const known = Object.values(ARCHITECTURES);
  if (weightFiles(found.vae).length) {
    for (const a of known) if (await matches('vae', found.vae, vaeParams(a.vae))) ({ vae } = a);
  }
  if (weightFiles(found.t5).length) {
    for (const a of known) if (a.t5 && (await matches('t5', found.t5, t5Params(a.t5)))) ({ t5 } = a);
  }
  return architectureFromDit(dit, vae, t5);
}

interface ChosenArchitecture {
  arch: ModelArchitecture;
  /** Where it came from, for the messages: --arch, a known match, the folder's config.json, or the default. */
  how: 'arg' | 'known' | 'config' | 'default';
  config?: string;
}

async function chooseArchitecture(found: DetectedFolder, opts: ImportOptions, notes: string[]): Promise<ChosenArchitecture> {
  if (opts.arch) return { arch: opts.ditOnly ? await withMatchingVaeT5(opts.arch.dit, found) : opts.arch, how: 'arg' };
  const known = await inferArchitecture(found.dit);
  if (known) return { arch: known, how: 'known' };
  // A size no known architecture has: the download's own config.json (as Wan ships it) says which.
  const cfg = found.dit.find((f) => f.role === 'config');
  if (cfg) {
    let json: unknown = null;
    try {
      json = JSON.parse(await readFile(cfg.path, 'utf8'));
    } catch {
      // Not JSON: treated as absent (the sentence below asks for --arch).
    }
    if (isOfficialDitConfig(json)) {
      try {
        const arch = await withMatchingVaeT5(ditConfigFromOfficial(json, cfg.path), found);
        notes.push(`architecture ${arch.name} read from ${cfg.path}`);
        return { arch, how: 'config', config: cfg.path };
      } catch (e) {
        if (e instanceof OfficialConfigError) throw new ImportError(e.problems.map((p) => `${cfg.path}: ${p}`));
        throw e;
      }
    }
  }
  return { arch: WAN22_TI2V_5B, how: 'default' };
}

/** One sentence when the DiT files are another size than the architecture, naming --arch; else null. */
function sizeSentence(idx: WeightIndex, chosen: ChosenArchitecture): string | null {
  const { arch } = chosen;
  const d = sizeDifference(ditSizes(idx, arch.dit.patch), arch.dit);
  if (!d) return null;
  const names = Object.keys(ARCHITECTURES).join(', ');
  if (chosen.how === 'arg') return `the DiT files do not match --arch ${arch.name}: they have ${d.files} where ${arch.name} has ${d.arch}; pass the --arch that describes these files (the model's config.json, or one of ${names})`;
  if (chosen.how === 'config') return `the DiT files do not match ${chosen.config}: they have ${d.files} where that config has ${d.arch}; pass --arch with the config that describes these files`;
  return `the DiT files match no known architecture: they have ${d.files} where ${arch.name} has ${d.arch}; pass --arch with the model's config.json (refree models import <dir> --arch <config.json>) or a known name (${names})`;
}

export async function importWanFolder(dir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const found = await detectWanFolder(dir);
  return buildPackage(found, opts);
}

/**
 * Checks the files of `found` against the architecture, hashes them and writes the package. Shared by
 * `models import` (a detected download) and `models create` (files given one by one).
 */
export async function buildPackage(found: DetectedFolder, opts: ImportOptions = {}): Promise<ImportReport> {
  const t0 = performance.now();
  if (found.problems.length) throw new ImportError(found.problems);
  const notes = [...found.notes];

  const chosen = await chooseArchitecture(found, opts, notes);
  const { arch } = chosen;
  const problems: string[] = [];
  const unknownKeys: Record<string, string[]> = {};
  const indexes = new Map<WeightKind, WeightIndex>();
  try {
    for (const kind of ['dit', 'vae', 't5'] as const) {
      const files = weightFiles(found[kind]);
      if (!files.length) continue;
      const idx = await WeightIndex.open(kind, files, inventory(kind, arch));
      indexes.set(kind, idx);
      if (kind === 'dit') {
        // The DiT at another size means the architecture is wrong: that one sentence says what to pass,
        // and the VAE/umT5 complaints that would follow from the same wrong choice are left out.
        const sentence = sizeSentence(idx, chosen);
        if (sentence) throw new ImportError([sentence]);
      } else if (idx.shapeMismatches.length > 3) {
        const m = idx.shapeMismatches[0]!;
        const what = kind === 'vae' ? 'VAE' : 'umT5';
        problems.push(
          `the ${what} files are another size than ${arch.name}'s ${what} ('${m.key}' is [${m.actual.join(',')}] where it needs [${m.expected.join(',')}], and ${idx.shapeMismatches.length - 1} more): ` +
            `pass the --arch that matches them, or leave this ${what} out`,
        );
        continue;
      }
      problems.push(...idx.problems());
      if (idx.unknown.length) {
        unknownKeys[kind] = [...idx.unknown];
        if (opts.allowUnknownKeys) notes.push(idx.unknownProblem()!);
        else problems.push(`${idx.unknownProblem()!} (is this ${arch.name}? pass --allow-unknown-keys to import anyway)`);
      }
    }
    if (problems.length) {
      const against = { arg: `the ${arch.name} architecture (--arch)`, known: `the ${arch.name} architecture`, config: `the ${arch.name} architecture (${chosen.config})`, default: `the ${arch.name} architecture (no known architecture matches the DiT files exactly; pass --arch for another one)` }[chosen.how];
      problems.push(`keys were checked against ${against}`);
      throw new ImportError(problems);
    }

    const name = opts.name ?? path.basename(found.dir);
    const out = path.resolve(opts.out ?? name);
    await mkdir(out, { recursive: true });

    const all = [...found.dit, ...found.vae, ...found.t5, ...found.tokenizer, ...(found.speechFrontEnd ?? [])];
    const hashes = await hashFiles(all.map((f) => f.path), opts.onProgress, opts.signal);
    const tensorsOf = new Map<string, { count: number; dtype: string | null }>();
    for (const idx of indexes.values()) for (const [f, t] of idx.fileTensors) tensorsOf.set(f, t);
    const entry = (f: DetectedFile, layout: KeyLayout, prefix: string): FileEntry => {
      const h = hashes.get(f.path)!;
      const t = tensorsOf.get(f.path) ?? (f.tensors !== undefined ? { count: f.tensors, dtype: f.dtype ?? null } : undefined);
      const isWeights = f.format === 'safetensors' || f.format === 'pth';
      return {
        path: recordPath(out, f.path),
        format: f.format,
        keyLayout: isWeights ? layout : 'none',
        dtype: t?.dtype ?? null,
        bytes: h.bytes,
        sha256: h.sha256,
        ...(isWeights ? { tensors: t?.count ?? 0 } : {}),
        ...(isWeights && prefix ? { prefix } : {}),
        ...(f.role ? { role: f.role } : {}),
      };
    };
    const component = (kind: WeightKind): WeightsComponent | undefined => {
      const files = found[kind as 'dit' | 'vae' | 't5'];
      const idx = indexes.get(kind);
      if (!files.length || !idx) return undefined;
      const c: WeightsComponent = { keyLayout: idx.layout, files: files.map((f) => entry(f, idx.layout, idx.prefix)) };
      if (idx.prefix) c.prefix = idx.prefix;
      return c;
    };

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name,
      version: '1.0.0',
      architecture: ARCHITECTURES[arch.name] === arch ? arch.name : (arch as Manifest['architecture']),
      engineCache: DEFAULT_ENGINE_CACHE,
      components: {},
      source: { dir: found.dir, layout: found.layout },
      created: new Date().toISOString(),
    };
    const dit = component('dit');
    const vae = component('vae');
    const t5 = component('t5');
    if (dit) manifest.components.dit = dit;
    if (vae) manifest.components.vae = vae;
    if (t5) manifest.components.t5 = t5;
    if (found.tokenizer.length) manifest.components.tokenizer = { files: found.tokenizer.map((f) => entry(f, 'none', '')) };
    if (found.speechFrontEnd?.length) {
      manifest.components.speechFrontEnd = { kind: 'wav2vec2', files: found.speechFrontEnd.map((f) => ({ ...entry(f, 'none', ''), keyLayout: f.format === 'json' ? ('none' as const) : ('diffusers' as const) })) };
    }
    // Re-importing into an existing package keeps what was added to it since (adapters, LoRAs, contexts).
    const previous = await readManifest(out).catch(() => null);
    if (previous) {
      const kept: string[] = [];
      for (const k of ['speechFrontEnd', 'refree', 'textContext', 'lora'] as const) {
        const c = previous.manifest.components[k];
        if (c === undefined || manifest.components[k] !== undefined) continue;
        (manifest.components as Record<string, unknown>)[k] = c;
        kept.push(k);
      }
      if (previous.manifest.engineCache) manifest.engineCache = previous.manifest.engineCache;
      if (kept.length) notes.push(`kept ${kept.join(', ')} from the existing ${path.join(out, 'refree.json')}`);
    }
    if (t5 && !found.tokenizer.some((f) => path.basename(f.path) === 'tokenizer.json')) notes.push('no tokenizer.json found beside the text encoder: `refree run t5` needs it');
    if (notes.length) manifest.notes = [...new Set(notes)];
    const manifestPath = await writeManifest(out, manifest);

    const components: Record<string, ComponentReport> = {};
    for (const [k, c] of Object.entries({ dit, vae, t5, tokenizer: manifest.components.tokenizer, speechFrontEnd: manifest.components.speechFrontEnd })) {
      if (!c) continue;
      components[k] = {
        files: c.files.length,
        bytes: c.files.reduce((a, f) => a + f.bytes, 0),
        tensors: c.files.reduce((a, f) => a + (f.tensors ?? 0), 0),
        keyLayout: 'keyLayout' in c ? c.keyLayout : 'none',
        dtype: indexes.get(k as WeightKind)?.dtype ?? null,
      };
    }
    return {
      ok: true,
      package: out,
      manifest: manifestPath,
      name,
      architecture: arch.name,
      layout: found.layout,
      components,
      unknownKeys,
      hashedBytes: [...hashes.values()].reduce((a, h) => a + h.bytes, 0),
      seconds: (performance.now() - t0) / 1000,
      notes: [...new Set(notes)],
    };
  } finally {
    await Promise.all([...indexes.values()].map((i) => i.close()));
  }
}
