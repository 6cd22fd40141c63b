// The engine cache: where a package's built ONNX engines and the weight bytes they point at live.
//
//   <pkg>/engines/<dtype>/                        one folder per weight dtype (float32 on CPU, float16 on GPU)
//     <backend>.<component>.<bucket>.onnx         graph only (KB-MB); every weight is external data
//     weights/src-<id>-<file>                     hard link to a source checkpoint (no copy, no extra disk)
//     weights/<component>-<id>.safetensors        converted weights (another dtype, or bytes we could not link)
//
// Why hard links: onnxruntime 1.30 resolves external data relative to the .onnx file and refuses any
// location that is absolute or resolves (symlinks included) outside the .onnx file's folder (tested:
// "External data path escapes model directory"). A hard link inside the cache folder is the same file
// as the user's download, so an ONNX initializer can point at a tensor's offset in the original
// safetensors/.pth bytes when the dtype already matches (fp32 weights on the CPU backend). Where a hard
// link cannot be made (another filesystem, a filesystem without links), the tensors are copied into
// the converted file instead and the run says so.
import { createHash } from 'node:crypto';
import { link, mkdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DType } from '../../graph/dtype.js';
import type { Graph, Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { serialize } from '../../graph/onnx/serialize.js';
import type { OpenOptions, OpenedSession } from '../../runtime/backends.js';
import { openSession } from '../../runtime/backends.js';
import type { ParamSpec } from '../inventory/types.js';
import type { WeightProvider } from '../weight-provider.js';
import { MissingWeightError } from '../weight-provider.js';
import type { WeightDtype } from '../weights/dtypes.js';
import { DTYPE_BYTES, bytesOf, toF16, toF32 } from '../weights/dtypes.js';
import { SafetensorsFile, writeSafetensors } from '../weights/safetensors.js';
import type { SafetensorsEntry } from '../weights/safetensors.js';
import type { TensorLocation, WeightIndex } from './weight-index.js';

export type EngineDtype = 'float32' | 'float16';

const WEIGHT_DTYPE: Record<EngineDtype, WeightDtype> = { float32: 'F32', float16: 'F16' };

export interface Placement {
  /** Relative to the dtype folder (ONNX `location`). */
  location: string;
  offset: number;
  length: number;
}

export interface PreparedWeights {
  /** Serves external initializers; only valid in graphs saved into `dir`. */
  provider: WeightProvider;
  /** The folder every .onnx using these weights must be saved in. */
  dir: string;
  /** Tensors referenced in the source files' own bytes. */
  inPlace: number;
  /** Tensors read from the converted file (converted, or copied where linking failed). */
  converted: number;
  /** Bytes written to the converted file in this call (0 when it was already there). */
  writtenBytes: number;
  notes: string[];
}

export interface PrepareOptions {
  /** Identity of the component's source bytes (manifest SHA-256s, or path+size+mtime); keys the converted file. */
  sourceId: string;
  /** Called while the converted file is written: bytes done / total. */
  onProgress?: (p: { done: number; total: number; file: string }) => void;
  /** Never reference source files in place (always convert/copy). */
  noLinks?: boolean;
}

const shortHash = (s: string, n = 16): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** A provider that hands out external initializers from a placement table. */
class ExternalWeightProvider implements WeightProvider {
  private readonly perGraph = new Map<Graph, Map<string, Tensor>>();
  constructor(
    private readonly table: ReadonlyMap<string, Placement & { shape: readonly number[] }>,
    private readonly dtype: DType,
    private readonly source: string,
  ) {}
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    let m = this.perGraph.get(g);
    if (!m) this.perGraph.set(g, (m = new Map()));
    const hit = m.get(name);
    if (hit) return hit;
    const p = this.table.get(name);
    if (!p) throw new MissingWeightError(name, this.source);
    if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError('weight', [p.shape, shape], `"${name}" in ${this.source} has shape [${p.shape.join(',')}], the architecture needs [${shape.join(',')}]`);
    }
    const t = g.initializer(name, this.dtype, shape, { kind: 'external', location: p.location, offset: p.offset, length: p.length });
    m.set(name, t);
    return t;
  }
}

/** Combines providers: each name goes to the first one that has it (DiT + ReFree adapter in one graph). */
export class UnionWeightProvider implements WeightProvider {
  constructor(private readonly parts: readonly { has(name: string): boolean; provider: WeightProvider }[]) {}
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    const p = this.parts.find((x) => x.has(name)) ?? this.parts[0]!;
    return p.provider.get(g, name, shape);
  }
}

/** Hard-links `src` (resolved through symlinks) into `dir`; returns the link's name, or null when linking is impossible. */
async function linkSource(dir: string, src: string): Promise<{ name: string } | { error: string }> {
  const real = await realpath(src);
  const st = await stat(real);
  const name = `src-${shortHash(`${real}:${st.size}`, 12)}-${path.basename(real)}`;
  const dst = path.join(dir, name);
  const have = await stat(dst).catch(() => null);
  if (have && have.ino === st.ino && have.dev === st.dev) return { name };
  if (have) await unlink(dst); // the source was replaced since the link was made
  try {
    await link(real, dst);
    return { name };
  } catch (e) {
    return { error: `${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as Error).message}` };
  }
}

function convert(bytes: Uint8Array, from: WeightDtype, to: WeightDtype): { data: ArrayBufferView; overflows: number } {
  if (from === to) return { data: bytes, overflows: 0 };
  if (to === 'F32') return { data: toF32(from, bytes), overflows: 0 };
  const h = toF16(from, bytes);
  return { data: h.data, overflows: h.overflows };
}

/** Whether an existing converted file holds exactly `specs` in `dtype`. */
async function convertedFileValid(file: string, specs: readonly ParamSpec[], dtype: WeightDtype): Promise<Map<string, Placement> | null> {
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(file);
  } catch {
    return null;
  }
  try {
    const out = new Map<string, Placement>();
    for (const s of specs) {
      if (!st.has(s.name)) return null;
      const t = st.info(s.name);
      if (t.dtype !== dtype || t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) return null;
      out.set(s.name, { location: `weights/${path.basename(file)}`, offset: t.fileOffset, length: t.byteLength });
    }
    return out;
  } finally {
    await st.close();
  }
}

/**
 * Decides, for every parameter in `specs`, where the engine reads it from (a hard link into a source
 * file, or a converted file it writes now when needed), and returns the provider that emits those
 * external initializers. `cacheRoot` is the package's engine cache folder.
 */
export async function prepareWeights(cacheRoot: string, component: string, index: WeightIndex, specs: readonly ParamSpec[], dtype: EngineDtype, opts: PrepareOptions): Promise<PreparedWeights> {
  index.assertComplete(component);
  const dir = path.join(cacheRoot, dtype);
  const wdir = path.join(dir, 'weights');
  await mkdir(wdir, { recursive: true });
  const want = WEIGHT_DTYPE[dtype];
  const notes: string[] = [];
  const table = new Map<string, Placement & { shape: readonly number[] }>();
  const toConvert: TensorLocation[] = [];
  const links = new Map<string, { name: string } | { error: string }>();

  for (const s of specs) {
    const loc = index.get(s.name);
    if (!loc) throw new MissingWeightError(s.name, `the ${component} weights`);
    if (loc.dtype === want && loc.fileOffset !== null && !opts.noLinks) {
      let l = links.get(loc.file);
      if (!l) {
        l = await linkSource(wdir, loc.file);
        links.set(loc.file, l);
        if ('error' in l) notes.push(`could not hard-link ${loc.file} into the engine cache (${l.error}); its tensors are copied into the cache instead`);
      }
      if ('name' in l) {
        table.set(s.name, { location: `weights/${l.name}`, offset: loc.fileOffset, length: loc.byteLength, shape: loc.shape });
        continue;
      }
    }
    toConvert.push(loc);
  }

  let writtenBytes = 0;
  if (toConvert.length) {
    const convSpecs = toConvert.map((l) => ({ name: l.name, shape: l.shape }));
    const id = shortHash(`${opts.sourceId}|${want}|${convSpecs.map((s) => `${s.name}:${s.shape.join('x')}`).join(',')}`);
    const file = path.join(wdir, `${component}-${id}.safetensors`);
    let placed = await convertedFileValid(file, convSpecs, want);
    if (!placed) {
      const total = toConvert.reduce((a, l) => a + (l.byteLength / DTYPE_BYTES[l.dtype]) * DTYPE_BYTES[want], 0);
      let done = 0;
      let overflows = 0;
      const entries: SafetensorsEntry[] = toConvert.map((l) => ({
        name: l.name,
        dtype: want,
        shape: l.shape,
        data: async () => {
          const c = convert(await index.read(l.name), l.dtype, want);
          overflows += c.overflows;
          done += c.data.byteLength;
          opts.onProgress?.({ done, total, file });
          return bytesOf(c.data);
        },
      }));
      const r = await writeSafetensors(file, entries, { metadata: { source: opts.sourceId, component, dtype: want } });
      writtenBytes = r.bytes;
      if (overflows) notes.push(`${overflows} ${component} weight value(s) exceed the fp16 range and were clamped to ±65504`);
      placed = await convertedFileValid(file, convSpecs, want);
      if (!placed) throw new Error(`internal: the converted weights file ${file} does not read back`);
    }
    for (const l of toConvert) table.set(l.name, { ...placed.get(l.name)!, shape: l.shape });
  }
  return {
    provider: new ExternalWeightProvider(table, dtype, `the ${component} weights`),
    dir,
    inPlace: specs.length - toConvert.length,
    converted: toConvert.length,
    writtenBytes,
    notes,
  };
}

/** A file-name-safe bucket string from named sizes: {b:1, f:3} -> "b1-f3". */
export function bucketName(parts: Readonly<Record<string, number | string>>): string {
  return Object.entries(parts)
    .map(([k, v]) => `${k}${v}`)
    .join('-')
    .replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Serializes `g` to `<dir>/<stem>.onnx` (rewritten only when its bytes changed) and opens it by path,
 * so its external data resolves inside the cache folder. Returns the session and the model's path.
 */
export async function compileInCache(g: Graph, dir: string, stem: string, opts: OpenOptions = {}): Promise<OpenedSession & { modelPath: string }> {
  const bytes = serialize(g, { ...opts, outputs: opts.outputs ?? g.outputs });
  const modelPath = path.join(dir, `${stem}.onnx`);
  const old = await readFile(modelPath).catch(() => null);
  if (!old || old.byteLength !== bytes.byteLength || !old.equals(bytes)) {
    await mkdir(dir, { recursive: true });
    const tmp = `${modelPath}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, modelPath);
  }
  const opened = await openSession(modelPath, opts);
  return { ...opened, modelPath };
}
