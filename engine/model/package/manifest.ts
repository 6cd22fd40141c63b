// The model package manifest, `refree.json` (DESIGN 4). A package is a folder with this file; the
// multi-GB weights it describes may live elsewhere (an import REFERENCES a user's Wan2.2 download
// instead of copying it), so every file is recorded with its path, format, key layout, dtype, size and
// SHA-256, and `refree models verify` can prove the bytes are still the ones imported.
//
//   {
//     "format": "refree-package/1",
//     "name": "wan2.2-ti2v-5b", "version": "1.0.0",
//     "architecture": "wan2.2-ti2v-5b" | { name, dit, vae, t5 },
//     "engineCache": "engines",            built ONNX engines: engines/<dtype>/<backend>.<component>.<bucket>.onnx
//     "components": {
//       "dit":   { keyLayout, prefix, files: [...] },            Wan DiT (original or Diffusers names)
//       "vae":   { ... }, "t5": { ... },                          Wan2.2 VAE, umT5-XXL encoder
//       "tokenizer": { files: [tokenizer.json, ...] },            umT5 tokenizer
//       "speechFrontEnd": { kind: "log-mel" | "wav2vec2", config?, files },
//       "refree": { config: "refree-5b" | {...}, files },         speech encoder + injection adapter
//       "textContext": { files },                                 cached prompt embeddings (`refree run t5` output)
//       "lora": [ { name, files, multiplier, enabled, config? } ]
//     },
//     "source": { dir, layout }, "created", "notes": [...]
//   }
//
// A file's `path` is relative to the package folder when the file is inside it, else absolute.
// Validation is zod with our own issue formatting: every problem is one line naming the field path.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ModelArchitecture } from '../config.js';
import { ARCHITECTURES, WAN22_TI2V_5B } from '../config.js';
import type { ReFreeConfig } from '../refree/config.js';
import { REFREE_5B, REFREE_TINY, ReFreeConfigError, validateReFreeConfig } from '../refree/config.js';
import { unsupportedOptions } from './arch-options.js';
import { OfficialConfigError, ditConfigFromOfficial, isOfficialDitConfig } from './official-config.js';

export const MANIFEST_FILE = 'refree.json';
export const MANIFEST_FORMAT = 'refree-package/1';
export const DEFAULT_ENGINE_CACHE = 'engines';

export const FILE_FORMATS = ['safetensors', 'pth', 'onnx', 'json'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/**
 * How tensor names in a file are spelled: 'original' (Wan's own state-dict names, also used for the
 * ReFree adapter), 'diffusers' (Diffusers / HF transformers names), 'diffsynth' and 'kohya' (LoRA
 * conventions), 'none' (not a weights file).
 */
export const KEY_LAYOUTS = ['original', 'diffusers', 'diffsynth', 'kohya', 'none'] as const;
export type KeyLayout = (typeof KEY_LAYOUTS)[number];

/** Every component a package can hold (the order `describe` and `verify` report them in). */
export const COMPONENTS = ['dit', 'vae', 't5', 'tokenizer', 'speechFrontEnd', 'refree', 'textContext', 'lora'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export const REFREE_PRESETS: Readonly<Record<string, ReFreeConfig>> = { 'refree-5b': REFREE_5B, 'refree-tiny': REFREE_TINY };

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

const DitConfigSchema = z.strictObject({
  inDim: posInt,
  outDim: posInt,
  patch: z.tuple([posInt, posInt, posInt]),
  dim: posInt,
  ffnDim: posInt,
  heads: posInt,
  layers: posInt,
  freqDim: posInt,
  textDim: posInt,
  textLen: posInt,
  eps: z.number().positive(),
  // Declared options of the official WanModel; values other than the implemented one are refused by
  // name in ArchitectureSchema's refinement (arch-options.ts), not by a generic type error here.
  modelType: z.string().optional(),
  qkNorm: z.boolean().optional(),
  crossAttnNorm: z.boolean().optional(),
  windowSize: z.tuple([z.number().int(), z.number().int()]).optional(),
});

const VaeConfigSchema = z.strictObject({
  zDim: posInt,
  encDim: posInt,
  decDim: posInt,
  dimMult: z.array(posInt).min(1),
  numResBlocks: posInt,
  temporalDownsample: z.array(z.boolean()),
  pixelPatch: posInt,
  attnScales: z.array(z.number()).optional(),
});

const T5ConfigSchema = z.strictObject({ vocab: posInt, dim: posInt, ffnDim: posInt, heads: posInt, layers: posInt, numBuckets: posInt, dimAttn: posInt.optional(), sharedPos: z.boolean().optional() });

export const ArchitectureSchema = z
  .strictObject({
    name: z.string().min(1),
    dit: DitConfigSchema,
    vae: VaeConfigSchema,
    t5: T5ConfigSchema.nullable(),
  })
  .superRefine((a, ctx) => {
    for (const p of unsupportedOptions(a)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

const ReFreeConfigSchema = z.strictObject({
  dim: posInt,
  layers: posInt,
  filmHeads: posInt,
  speechDim: posInt,
  hidden: posInt,
  mlpHidden: posInt,
  levels: posInt,
  kernelSizes: z.array(posInt).min(1),
  injectBlocks: z.array(nonNegInt),
  injectAt: z.enum(['after_self_attn', 'after_cross_attn', 'after_ffn']),
  window: z.strictObject({ past: nonNegInt, future: nonNegInt }),
  temporalStride: posInt,
  mode: z.enum(['film', 'cross-attention']),
  eps: z.number().positive(),
});

const SHA256 = /^[0-9a-f]{64}$/;

export const FileEntrySchema = z.strictObject({
  /** Relative to the package folder when inside it, else absolute. */
  path: z.string().min(1, 'a file path must not be empty'),
  format: z.enum(FILE_FORMATS),
  keyLayout: z.enum(KEY_LAYOUTS),
  /** The tensors' dtype ('F32', 'BF16', ...), 'mixed' when they differ, null for non-tensor files. */
  dtype: z.string().nullable(),
  bytes: nonNegInt,
  sha256: z.string().regex(SHA256, 'expected 64 lowercase hex digits (a SHA-256)'),
  /** Tensors in the file (weights files only). */
  tensors: nonNegInt.optional(),
  /** ComfyUI prefix carried by this file's keys ('' or absent: none). */
  prefix: z.string().optional(),
  /** What the file is for inside its component when that is not obvious ('index', 'config', ...). */
  role: z.string().optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

const componentBase = {
  files: z.array(FileEntrySchema),
  /** False when the engine cannot load this component's naming yet (kept so the package is complete). */
  loadable: z.boolean().optional(),
  notes: z.array(z.string()).optional(),
};

const WeightsComponentSchema = z.strictObject({
  ...componentBase,
  keyLayout: z.enum(KEY_LAYOUTS),
  /** ComfyUI prefix of the keys ('' when none). */
  prefix: z.string().optional(),
});
export type WeightsComponent = z.infer<typeof WeightsComponentSchema>;

const FilesComponentSchema = z.strictObject({ ...componentBase });
export type FilesComponent = z.infer<typeof FilesComponentSchema>;

const SpeechFrontEndSchema = z.strictObject({
  ...componentBase,
  kind: z.enum(['log-mel', 'wav2vec2']),
  /** The front-end's settings (engine/model/speech/front-end.ts), kept as given. */
  config: z.record(z.string(), z.unknown()).optional(),
});

const ReFreeComponentSchema = z.strictObject({
  ...componentBase,
  keyLayout: z.enum(KEY_LAYOUTS).optional(),
  config: z.union([z.string(), ReFreeConfigSchema]),
});

const LoraSchema = z.strictObject({
  ...componentBase,
  name: z.string().min(1),
  format: z.enum(['diffsynth', 'kohya']).optional(),
  multiplier: z.number().optional(),
  enabled: z.boolean().optional(),
  config: z.strictObject({ rank: posInt, alpha: z.number().optional(), targets: z.array(z.string()).optional() }).optional(),
});
export type LoraEntry = z.infer<typeof LoraSchema>;

export const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string().min(1),
  version: z.string().min(1),
  architecture: z.union([z.string(), ArchitectureSchema]),
  engineCache: z.string().min(1).optional(),
  components: z.strictObject({
    dit: WeightsComponentSchema.optional(),
    vae: WeightsComponentSchema.optional(),
    t5: WeightsComponentSchema.optional(),
    tokenizer: FilesComponentSchema.optional(),
    speechFrontEnd: SpeechFrontEndSchema.optional(),
    refree: ReFreeComponentSchema.optional(),
    textContext: FilesComponentSchema.optional(),
    lora: z.array(LoraSchema).optional(),
  }),
  source: z.strictObject({ dir: z.string(), layout: z.enum(['original', 'diffusers', 'comfyui', 'files']) }).optional(),
  /**
   * Set when the package is a fine-tuned adapter (engine/train): its base weights are the base
   * package's files (referenced, not copied) and `hash` is the base package's identity (packageHash).
   */
  adapter: z.strictObject({ base: z.strictObject({ name: z.string(), hash: z.string().regex(/^[0-9a-f]{64}$/), dir: z.string() }), run: z.string().optional(), stage: z.string().optional() }).optional(),
  created: z.string().optional(),
  notes: z.array(z.string()).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is not a valid model package manifest:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ManifestError';
  }
}

function fieldPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s === '' ? '(top level)' : s;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * One readable line per zod issue. Unions are resolved by the input's type: a string `architecture`
 * is checked as a name, an object one as a config, so the message is about the branch the author meant.
 */
function formatIssues(issues: readonly z.core.$ZodIssue[], root: unknown, base: readonly PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      const value = valueAt(root, at);
      // Prefer the branch whose errors are not "wrong type at the union itself".
      const branches = issue.errors.filter((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      const pick = branches[0] ?? issue.errors[0];
      if (pick && branches.length > 0) {
        out.push(...formatIssues(pick, root, at));
        continue;
      }
      out.push(`${fieldPath(at)}: ${show(value)} is neither a name nor a config object`);
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      out.push(`${fieldPath(at)}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
      continue;
    }
    if (issue.code === 'custom') {
      // Our own refinements already say what the value is.
      out.push(`${fieldPath(at)}: ${issue.message}`);
      continue;
    }
    const value = valueAt(root, at);
    const got = issue.code === 'invalid_type' && value === undefined ? 'it is missing' : `got ${show(value)}`;
    out.push(`${fieldPath(at)}: ${issue.message.replace(/^Invalid (input|option): /, '')} (${got})`);
  }
  return out;
}

/** Checks the parts zod cannot: known architecture/preset names, the ReFree config's own rules. */
function semanticProblems(m: Manifest): string[] {
  const problems: string[] = [];
  if (typeof m.architecture === 'string' && !ARCHITECTURES[m.architecture]) {
    problems.push(`architecture: unknown architecture name "${m.architecture}" (known: ${Object.keys(ARCHITECTURES).join(', ')}; or give a config object)`);
  }
  const refree = m.components.refree;
  if (refree) {
    if (typeof refree.config === 'string') {
      if (!REFREE_PRESETS[refree.config]) problems.push(`components.refree.config: unknown preset "${refree.config}" (known: ${Object.keys(REFREE_PRESETS).join(', ')})`);
    } else {
      try {
        validateReFreeConfig(refree.config as ReFreeConfig);
      } catch (e) {
        if (e instanceof ReFreeConfigError) problems.push(`components.refree.config: ${e.message}`);
        else throw e;
      }
    }
  }
  const seen = new Map<string, string>();
  for (const { component, file, index } of manifestFiles(m)) {
    const where = `${component} files[${index}]`;
    // Relative paths are for files inside the package (recordPath); one that climbs out with ".." would
    // let a shared package make verify/run open any file. Refused before anything is opened.
    if (!path.isAbsolute(file.path) && file.path.split(/[\\/]/).includes('..')) problems.push(`${where}: "${file.path}" leaves the package folder; a relative path must stay inside the package (files elsewhere are recorded by absolute path)`);
    const prev = seen.get(file.path);
    if (prev) problems.push(`${where}: "${file.path}" is already listed under ${prev}`);
    else seen.set(file.path, where);
  }
  const names = new Set<string>();
  for (const [i, l] of (m.components.lora ?? []).entries()) {
    if (names.has(l.name)) problems.push(`components.lora[${i}].name: "${l.name}" is used by two adapters`);
    names.add(l.name);
  }
  if (m.engineCache !== undefined && (path.isAbsolute(m.engineCache) || m.engineCache.split(/[\\/]/).includes('..'))) {
    problems.push(`engineCache: must be a folder inside the package (a relative path without ".."), got "${m.engineCache}"`);
  }
  return problems;
}

/** Validates parsed JSON; `where` names the file in messages. Throws ManifestError listing every problem. */
export function parseManifest(json: unknown, where = MANIFEST_FILE): Manifest {
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw new ManifestError(where, formatIssues(r.error.issues, json));
  const problems = semanticProblems(r.data);
  if (problems.length) throw new ManifestError(where, problems);
  return r.data;
}

/** Reads and validates `<dir>/refree.json` (or the file itself when given a path to a .json). */
export async function readManifest(dirOrFile: string): Promise<{ dir: string; file: string; manifest: Manifest }> {
  const file = dirOrFile.endsWith('.json') ? path.resolve(dirOrFile) : path.resolve(dirOrFile, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the file does not exist (is this a model package folder? create one with `refree models import <dir>`)'
        : code === 'ENOTDIR'
          ? `${path.resolve(dirOrFile)} is a file, not a folder: give the model package's folder (the one holding ${MANIFEST_FILE})`
          : code === 'EISDIR'
            ? `${file} is a folder: give the model package's folder or its ${MANIFEST_FILE}`
            : code === 'EACCES' || code === 'EPERM'
              ? 'permission denied: the package folder must be readable'
              : (e as Error).message;
    throw new ManifestError(file, [why]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  return { dir: path.dirname(file), file, manifest: parseManifest(json, file) };
}

/** Writes `<dir>/refree.json` atomically (validated first, so a package is never left with a bad manifest). */
export async function writeManifest(dir: string, m: Manifest): Promise<string> {
  const file = path.join(dir, MANIFEST_FILE);
  parseManifest(m, file);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`);
  await rename(tmp, file);
  return file;
}

/** The architecture a manifest names or spells out. */
export function resolveArchitecture(spec: Manifest['architecture']): ModelArchitecture {
  if (typeof spec !== 'string') return spec as ModelArchitecture;
  const a = ARCHITECTURES[spec];
  if (!a) throw new ManifestError(MANIFEST_FILE, [`architecture: unknown architecture name "${spec}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`]);
  return a;
}

export interface ArchitectureArg {
  arch: ModelArchitecture;
  /**
   * True when only the DiT came from the argument (a shipped Wan `config.json` describes the DiT alone):
   * the VAE and umT5 are then Wan2.2's, and an import may match them to its files instead.
   */
  ditOnly: boolean;
  /** The JSON file it was read from (null for a name). */
  file: string | null;
}

/** Numeric sizes equal (the declared options are checked separately and have one value each). */
const sameSizes = (a: object, b: object): boolean => {
  const strip = (o: object) => JSON.stringify(Object.entries(o).filter(([k]) => !['name', 'modelType', 'qkNorm', 'crossAttnNorm', 'windowSize', 'attnScales', 'sharedPos', 'dimAttn'].includes(k)).sort(([x], [y]) => (x < y ? -1 : 1)));
  return strip(a) === strip(b);
};

/** The known architecture with these component configs (so a package records its name), else null. */
export function knownArchitecture(a: Pick<ModelArchitecture, 'dit' | 'vae' | 't5'>): ModelArchitecture | null {
  for (const k of Object.values(ARCHITECTURES)) {
    if (sameSizes(k.dit, a.dit) && sameSizes(k.vae, a.vae) && (k.t5 === null ? a.t5 === null : a.t5 !== null && sameSizes(k.t5, a.t5))) return k;
  }
  return null;
}

/** An architecture built around a shipped DiT config: Wan2.2's VAE and umT5 (what the TI2V pipeline uses). */
export function architectureFromDit(dit: ModelArchitecture['dit'], vae: ModelArchitecture['vae'] = WAN22_TI2V_5B.vae, t5: ModelArchitecture['t5'] = WAN22_TI2V_5B.t5): ModelArchitecture {
  return knownArchitecture({ dit, vae, t5 }) ?? { name: `wan2.2-ti2v-d${dit.dim}-l${dit.layers}`, dit, vae, t5 };
}

/**
 * An architecture given on the command line: a known name, a JSON file with our config object, or the
 * DiT `config.json` exactly as Wan ships it (official WanModel or Diffusers spelling, official-config.ts).
 */
export async function readArchitectureArg(arg: string): Promise<ArchitectureArg> {
  if (ARCHITECTURES[arg]) return { arch: ARCHITECTURES[arg], ditOnly: false, file: null };
  if (!arg.endsWith('.json')) throw new Error(`unknown architecture "${arg}" (known: ${Object.keys(ARCHITECTURES).join(', ')}; or a .json file: a model's config.json or a config object)`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(arg, 'utf8')) as unknown;
  } catch (e) {
    throw new ManifestError(arg, [(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : `not valid JSON: ${(e as Error).message}`]);
  }
  if (isOfficialDitConfig(json)) {
    try {
      return { arch: architectureFromDit(ditConfigFromOfficial(json, arg)), ditOnly: true, file: path.resolve(arg) };
    } catch (e) {
      if (e instanceof OfficialConfigError) throw new ManifestError(arg, e.problems);
      throw e;
    }
  }
  const r = ArchitectureSchema.safeParse(json);
  if (!r.success) throw new ManifestError(arg, formatIssues(r.error.issues, json));
  return { arch: r.data as ModelArchitecture, ditOnly: false, file: path.resolve(arg) };
}

/** An architecture given on the command line (see readArchitectureArg). */
export async function architectureFromArg(arg: string): Promise<ModelArchitecture> {
  return (await readArchitectureArg(arg)).arch;
}

export function resolveReFreeConfig(spec: string | ReFreeConfig | Record<string, unknown>): ReFreeConfig {
  if (typeof spec === 'string') {
    const c = REFREE_PRESETS[spec];
    if (!c) throw new ManifestError(MANIFEST_FILE, [`components.refree.config: unknown preset "${spec}" (known: ${Object.keys(REFREE_PRESETS).join(', ')})`]);
    return c;
  }
  return validateReFreeConfig(spec as unknown as ReFreeConfig);
}

/** Every file of a manifest with the component that lists it (lora adapters as "lora:<name>"). */
export function manifestFiles(m: Manifest): { component: string; file: FileEntry; index: number }[] {
  const out: { component: string; file: FileEntry; index: number }[] = [];
  const c = m.components;
  for (const name of COMPONENTS) {
    if (name === 'lora') {
      for (const l of c.lora ?? []) l.files.forEach((file, index) => out.push({ component: `lora:${l.name}`, file, index }));
      continue;
    }
    c[name]?.files.forEach((file, index) => out.push({ component: name, file, index }));
  }
  return out;
}

/** Absolute path of a manifest file entry. */
export function resolveFilePath(pkgDir: string, file: Pick<FileEntry, 'path'>): string {
  return path.isAbsolute(file.path) ? file.path : path.resolve(pkgDir, ...file.path.split('/'));
}

/** The path to record for `abs`: relative (POSIX separators) when it is inside the package folder, else absolute. */
export function recordPath(pkgDir: string, abs: string): string {
  const rel = path.relative(path.resolve(pkgDir), path.resolve(abs));
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return path.resolve(abs);
}

export function engineCacheDir(pkgDir: string, m: Manifest): string {
  return path.resolve(pkgDir, m.engineCache ?? DEFAULT_ENGINE_CACHE);
}
