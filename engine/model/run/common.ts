// Shared plumbing of the component entry points (`refree run dit | vae-encode | vae-decode | t5`):
// choosing the backend and weight dtype, opening a component's weights from a model source and placing
// them in the engine cache, and reading/writing the safetensors tensor files they exchange.
import type { OpenOptions } from '../../runtime/backends.js';
import { firstUsableBackend } from '../../runtime/backends.js';
import type { Backend } from '../../runtime/session.js';
import type { ParamSpec } from '../inventory/types.js';
import type { EngineDtype, PreparedWeights } from '../package/engine-cache.js';
import { prepareWeights } from '../package/engine-cache.js';
import type { ModelSource, WeightComponent } from '../package/source.js';
import { WeightIndex } from '../package/weight-index.js';
import type { WeightDtype } from '../weights/dtypes.js';
import { toF32 } from '../weights/dtypes.js';
import { SafetensorsFile, writeSafetensors } from '../weights/safetensors.js';

export interface RunOptions {
  /** Backend to run on; default the first usable one (cuda → webgpu → cpu). */
  backend?: Backend;
  /** Weight dtype in the engine; default float32 on cpu, float16 on GPU backends. */
  dtype?: EngineDtype;
  /** Progress of weight conversion into the engine cache. */
  onProgress?: (p: { done: number; total: number; file: string }) => void;
}

export interface RunInfo {
  backend: Backend;
  dtype: EngineDtype;
  /** The .onnx engine(s) run, in the package's engine cache. */
  engines: string[];
  weights: { inPlace: number; converted: number; writtenBytes: number };
  notes: string[];
  seconds: number;
}

export class RunError extends Error {
  override name = 'RunError';
}

export async function chooseBackend(opts: RunOptions): Promise<{ backend: Backend; dtype: EngineDtype; open: OpenOptions; skipped: string[] }> {
  let backend = opts.backend;
  let skipped: string[] = [];
  if (!backend) {
    const r = await firstUsableBackend();
    if (!r.backend) throw new RunError(`no backend can run: ${r.skipped.join('; ')}`);
    backend = r.backend;
    skipped = r.skipped;
  }
  const dtype = opts.dtype ?? (backend === 'cpu' ? 'float32' : 'float16');
  // An explicit backend is honoured or fails; an automatic one may still fall back while opening.
  return { backend, dtype, open: { prefer: backend, fallback: opts.backend === undefined }, skipped };
}

/** Opens a component's weights from `src`, checks they are complete, and places them in the engine cache. */
export async function componentWeights(src: ModelSource, component: WeightComponent, specs: readonly ParamSpec[], dtype: EngineDtype, opts: RunOptions, ignorePrefixes: readonly string[] = []): Promise<PreparedWeights> {
  const c = src.components[component];
  if (!c || c.files.length === 0) {
    throw new RunError(`${src.kind === 'package' ? `package "${src.name}"` : 'the weights given'} has no ${component} weights${src.kind === 'package' ? ` (components: ${Object.keys(src.components).join(', ') || 'none'})` : ''}`);
  }
  if (!c.loadable) throw new RunError(`the package's ${component} files cannot be loaded: ${c.notes.join('; ') || 'unsupported naming'}`);
  const index = await WeightIndex.open(component, c.files, specs, { ignorePrefixes });
  try {
    return await prepareWeights(src.engineDir, component, index, specs, dtype, { sourceId: c.sourceId, onProgress: opts.onProgress });
  } finally {
    await index.close();
  }
}

export interface HostTensor {
  dtype: WeightDtype;
  shape: number[];
  /** Values as float32 (integers converted). */
  data: Float32Array;
}

/** Every tensor of a safetensors file, as float32. */
export async function readTensorFile(file: string): Promise<Map<string, HostTensor>> {
  const st = await SafetensorsFile.open(file);
  try {
    const out = new Map<string, HostTensor>();
    for (const t of st.tensors()) {
      const bytes = await st.readBytes(t.name);
      let data: Float32Array;
      if (t.dtype === 'I64') data = Float32Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, t.numel), Number);
      else if (t.dtype === 'I32') data = Float32Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, t.numel));
      else data = Float32Array.from(toF32(t.dtype, bytes));
      out.set(t.name, { dtype: t.dtype, shape: [...t.shape], data });
    }
    return out;
  } finally {
    await st.close();
  }
}

/** Writes float32 tensors (name -> data, shape) to a safetensors file with string metadata. */
export async function writeTensorFile(file: string, tensors: Record<string, { data: Float32Array; shape: readonly number[] }>, metadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensors(
    file,
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })),
    { metadata },
  );
}

export const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;
