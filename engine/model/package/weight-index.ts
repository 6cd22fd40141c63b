// Where each parameter of a component lives: its canonical (official Wan / ReFree) name mapped to a
// tensor in one of the component's files, whatever the files call it (original or Diffusers DiT names,
// Diffusers VAE and HF umT5 names, ComfyUI prefixes, a `model_state.` wrapper around a .pth state dict). Opening reads headers only
// (safetensors JSON headers, the .pth pickle); tensor bytes are read on demand or referenced in place.
import type { ParamSpec } from '../inventory/types.js';
import type { WeightDtype } from '../weights/dtypes.js';
import { mapWanDitKeys } from '../weights/keymap.js';
import { wanT5HfNames, wanVaeDiffusersName } from '../weights/keymap-components.js';
import { PthFile } from '../weights/pth.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import type { FileFormat, KeyLayout } from './manifest.js';

export type WeightKind = 'dit' | 'vae' | 't5' | 'refree';

export interface TensorLocation {
  /** Canonical name (what model code asks for). */
  name: string;
  /** Absolute path of the file holding it. */
  file: string;
  /** The key in that file. */
  key: string;
  dtype: WeightDtype;
  shape: readonly number[];
  byteLength: number;
  /** Absolute byte offset of the tensor in the file when its bytes are stored there as is (else null). */
  fileOffset: number | null;
}

export interface ShapeMismatch {
  name: string;
  key: string;
  expected: readonly number[];
  actual: readonly number[];
}

export interface IndexFile {
  path: string;
  format: FileFormat;
}

/** Wrappers a state dict may sit under, tried for non-DiT components (most keys mapped wins). */
const WRAPPER_PREFIXES = ['', 'model_state.', 'state_dict.', 'model.', 'module.', 'first_stage_model.', 'vae.', 'text_encoder.', 'model.diffusion_model.', 'diffusion_model.'];

export class WeightIndexError extends Error {
  override name = 'WeightIndexError';
}

type Handle = SafetensorsFile | PthFile;

interface RawTensor {
  key: string;
  file: string;
  dtype: WeightDtype;
  shape: readonly number[];
  byteLength: number;
  fileOffset: number | null;
  handle: Handle;
}

const list = (names: readonly string[], max = 12): string =>
  names.slice(0, max).map((n) => `'${n}'`).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');

export class WeightIndex {
  private constructor(
    readonly kind: WeightKind,
    readonly locations: ReadonlyMap<string, TensorLocation>,
    /** Source keys that are not a parameter of this architecture. */
    readonly unknown: readonly string[],
    /** Parameters of this architecture no file provides. */
    readonly missing: readonly string[],
    readonly shapeMismatches: readonly ShapeMismatch[],
    /** The naming the files use. */
    readonly layout: KeyLayout,
    /** Prefix stripped from every key ('' when none). */
    readonly prefix: string,
    /** Every tensor in each file (mapped or not): count and dtypes, by absolute path. */
    readonly fileTensors: ReadonlyMap<string, { count: number; dtype: string | null }>,
    private readonly handles: readonly Handle[],
    private readonly byName: ReadonlyMap<string, RawTensor>,
    private readonly raw: ReadonlyMap<string, RawTensor>,
  ) {}

  /** Every key in the files, as the files spell it. */
  get keys(): string[] {
    return [...this.raw.keys()];
  }

  /** The shape of a tensor by its key in the files (undefined when absent). */
  shapeOfKey(key: string): readonly number[] | undefined {
    return this.raw.get(key)?.shape;
  }

  /**
   * Opens `files` (headers only) and maps their keys onto `expected` (the architecture's inventory).
   * Keys under `ignorePrefixes` (e.g. 'refree.' beside a DiT) are left out of the unknown list.
   */
  static async open(kind: WeightKind, files: readonly IndexFile[], expected: readonly ParamSpec[], opts: { ignorePrefixes?: readonly string[] } = {}): Promise<WeightIndex> {
    const handles: Handle[] = [];
    const raw = new Map<string, RawTensor>();
    try {
      for (const f of files) {
        if (f.format === 'safetensors') {
          const st = await SafetensorsFile.open(f.path);
          handles.push(st);
          for (const t of st.tensors()) add(raw, { key: t.name, file: f.path, dtype: t.dtype, shape: t.shape, byteLength: t.byteLength, fileOffset: t.fileOffset, handle: st });
        } else if (f.format === 'pth') {
          const p = await PthFile.open(f.path);
          handles.push(p);
          for (const t of p.tensors()) add(raw, { key: t.name, file: f.path, dtype: t.dtype, shape: t.shape, byteLength: t.byteLength, fileOffset: t.contiguous ? t.fileOffset : null, handle: p });
        }
      }
    } catch (e) {
      await Promise.all(handles.map((h) => h.close()));
      throw e;
    }
    const ignore = opts.ignorePrefixes ?? [];
    const keys = [...raw.keys()].filter((k) => !ignore.some((p) => k.startsWith(p)));
    const want = new Map(expected.map((p) => [p.name, p.shape]));

    let layout: KeyLayout;
    let prefix: string;
    let mapping: Map<string, string>;
    let unknown: string[];
    if (kind === 'dit') {
      try {
        const m = mapWanDitKeys(keys, want.keys());
        ({ layout, prefix, mapping, unknown } = m);
      } catch (e) {
        await Promise.all(handles.map((h) => h.close()));
        throw new WeightIndexError(`${files.map((f) => f.path).join(', ')}: ${(e as Error).message}`, { cause: e });
      }
    } else {
      // Official names, or the Diffusers VAE / HF umT5 names (keymap-components.ts), behind any wrapper.
      ({ layout, prefix, mapping, unknown } = mapComponent(kind, keys, want));
    }

    const locations = new Map<string, TensorLocation>();
    const byName = new Map<string, RawTensor>();
    const shapeMismatches: ShapeMismatch[] = [];
    for (const [name, key] of mapping) {
      const t = raw.get(key)!;
      const shape = want.get(name)!;
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        shapeMismatches.push({ name, key, expected: shape, actual: t.shape });
        continue;
      }
      byName.set(name, t);
      locations.set(name, { name, file: t.file, key, dtype: t.dtype, shape: t.shape, byteLength: t.byteLength, fileOffset: t.fileOffset });
    }
    const missing = expected.map((p) => p.name).filter((n) => !mapping.has(n));
    const perFile = new Map<string, { count: number; dtypes: Set<string> }>();
    for (const f of files) perFile.set(f.path, { count: 0, dtypes: new Set() });
    for (const t of raw.values()) {
      const e = perFile.get(t.file)!;
      e.count++;
      e.dtypes.add(t.dtype);
    }
    const fileTensors = new Map([...perFile].map(([f, e]) => [f, { count: e.count, dtype: e.dtypes.size === 0 ? null : e.dtypes.size === 1 ? [...e.dtypes][0]! : 'mixed' }]));
    return new WeightIndex(kind, locations, unknown.sort(), missing, shapeMismatches, layout, prefix, fileTensors, handles, byName, raw);
  }

  /** Tensor dtypes present ('F32', ...): one value, or 'mixed'. null when empty. */
  get dtype(): string | null {
    const set = new Set([...this.locations.values()].map((l) => l.dtype));
    return set.size === 0 ? null : set.size === 1 ? [...set][0]! : 'mixed';
  }

  /** One sentence per problem (missing, shape); [] when everything maps. */
  problems(what: string = this.kind): string[] {
    const out: string[] = [];
    if (this.missing.length) out.push(`${what}: ${this.missing.length} parameter(s) missing from the files: ${list(this.missing)}`);
    for (const m of this.shapeMismatches.slice(0, 12)) out.push(`${what}: '${m.key}' has shape [${m.actual.join(',')}], the architecture needs [${m.expected.join(',')}] for '${m.name}'`);
    if (this.shapeMismatches.length > 12) out.push(`${what}: ${this.shapeMismatches.length - 12} more shape mismatches`);
    return out;
  }

  unknownProblem(what: string = this.kind): string | null {
    return this.unknown.length ? `${what}: ${this.unknown.length} key(s) are not parameters of this architecture: ${list(this.unknown)}` : null;
  }

  /** Throws WeightIndexError when a needed parameter is missing, misshapen or unreadable. */
  assertComplete(what: string = this.kind): void {
    const p = this.problems(what);
    if (p.length) throw new WeightIndexError(p.join('\n'));
  }

  get(name: string): TensorLocation | undefined {
    return this.locations.get(name);
  }

  /** The tensor's raw little-endian bytes. */
  async read(name: string): Promise<Uint8Array> {
    const t = this.byName.get(name);
    if (!t) throw new WeightIndexError(`${this.kind}: no tensor for '${name}'`);
    return t.handle.readBytes(t.key);
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }
}

function add(raw: Map<string, RawTensor>, t: RawTensor): void {
  const prev = raw.get(t.key);
  if (prev) throw new WeightIndexError(`tensor '${t.key}' is in both ${prev.file} and ${t.file}; a component's files must not overlap`);
  raw.set(t.key, t);
}

/** Source names to try for a canonical name, per naming. */
function renamer(kind: WeightKind, layout: KeyLayout): (name: string) => string[] {
  if (layout === 'original') return (n) => [n];
  if (kind === 'vae') return (n) => {
    const d = wanVaeDiffusersName(n);
    return d ? [d] : [];
  };
  if (kind === 't5') return wanT5HfNames;
  return () => [];
}

/**
 * The naming and wrapper prefix that map the most keys onto expected names (official names win a tie).
 * Other spellings of a mapped tensor (a tied `encoder.embed_tokens.weight` beside `shared.weight`) are
 * not reported as unknown.
 */
function mapComponent(kind: WeightKind, keys: readonly string[], want: ReadonlyMap<string, readonly number[]>): { layout: KeyLayout; prefix: string; mapping: Map<string, string>; unknown: string[] } {
  const have = new Set(keys);
  let best = { layout: 'original' as KeyLayout, prefix: '', mapping: new Map<string, string>(), aliases: new Set<string>() };
  for (const layout of ['original', 'diffusers'] as const) {
    const names = renamer(kind, layout);
    for (const p of WRAPPER_PREFIXES) {
      const mapping = new Map<string, string>();
      const aliases = new Set<string>();
      for (const name of want.keys()) {
        const candidates = names(name).map((c) => p + c);
        const hit = candidates.find((c) => have.has(c));
        if (hit === undefined) continue;
        mapping.set(name, hit);
        for (const c of candidates) aliases.add(c);
      }
      if (mapping.size > best.mapping.size) best = { layout, prefix: p, mapping, aliases };
    }
  }
  return { layout: best.layout, prefix: best.prefix, mapping: best.mapping, unknown: keys.filter((k) => !best.aliases.has(k)) };
}
