// Seeded random weights written to a local safetensors file in float16, and a provider whose
// initializers point into that file as ONNX external data (no copy, no download).
//
// Why not engine/model/random-weights.ts: it draws every value with Box-Muller in JS, about a minute
// per billion values here, and the 5B DiT has five billion. Speed and memory do not depend on the
// values, only their scale matters (no inf/NaN from blown-up activations), so each tensor is cut from
// a pool of a few million normals per scale, starting at an offset derived from the seed and its name.
// The pool length is odd and not a multiple of any layer width, so rows do not repeat in lockstep.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../../engine/graph/graph.js';
import { f32ToF16 } from '../../engine/graph/half.js';
import type { ParamSpec } from '../../engine/model/inventory/types.js';
import { seededNormal } from '../../engine/model/random-weights.js';
import type { WeightProvider } from '../../engine/model/weight-provider.js';
import { MissingWeightError } from '../../engine/model/weight-provider.js';
import { SafetensorsFile, writeSafetensors } from '../../engine/model/weights/safetensors.js';

const POOL = (1 << 22) + 13;

function hashName(name: string, seed: number): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The same scale rule as randomWeights: ones ± 0.1 for norm scales, fan-in normals for matrices, 0.1 for the rest. */
function scaleOf(p: ParamSpec): { key: string; mean: number; std: number } {
  if (/(^|\.)norm[^.]*\.weight$|gamma$/.test(p.name)) return { key: 'norm', mean: 1, std: 0.1 };
  if (p.shape.length >= 2 && !p.name.endsWith('modulation')) {
    const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
    return { key: `fan${fanIn}`, mean: 0, std: 1 / Math.sqrt(fanIn) };
  }
  return { key: 'small', mean: 0, std: 0.1 };
}

class HalfPools {
  private readonly pools = new Map<string, Uint16Array>();
  /** Values each scale needs in all: a pool never holds more than that (small models stay quick). */
  private readonly need = new Map<string, number>();
  constructor(
    private readonly seed: number,
    specs: readonly ParamSpec[],
  ) {
    for (const p of specs) {
      const k = scaleOf(p).key;
      this.need.set(k, (this.need.get(k) ?? 0) + p.shape.reduce((a, b) => a * b, 1));
    }
  }
  get(s: { key: string; mean: number; std: number }): Uint16Array {
    let p = this.pools.get(s.key);
    if (!p) {
      const v = seededNormal(Math.max(1, Math.min(POOL, this.need.get(s.key) ?? POOL)), hashName(s.key, this.seed), s.std);
      if (s.mean) for (let i = 0; i < v.length; i++) v[i]! += s.mean;
      p = f32ToF16(v).data;
      this.pools.set(s.key, p);
    }
    return p;
  }
}

/** One tensor's fp16 bits: the pool from a name-dependent offset, wrapping around. */
function fill(pool: Uint16Array, n: number, start: number): Uint16Array {
  const out = new Uint16Array(n);
  let done = 0;
  let at = start % pool.length;
  while (done < n) {
    const k = Math.min(n - done, pool.length - at);
    out.set(pool.subarray(at, at + k), done);
    done += k;
    at = 0;
  }
  return out;
}

export interface WrittenWeights {
  file: string;
  bytes: number;
  tensors: number;
  seconds: number;
}

/** Writes every parameter of `specs` as float16 to `file`, one tensor in memory at a time. */
export async function writeRandomF16(file: string, specs: readonly ParamSpec[], seed: number): Promise<WrittenWeights> {
  const t0 = performance.now();
  await mkdir(path.dirname(file), { recursive: true });
  const pools = new HalfPools(seed, specs);
  const r = await writeSafetensors(
    file,
    specs.map((p) => ({
      name: p.name,
      dtype: 'F16' as const,
      shape: p.shape,
      data: () => fill(pools.get(scaleOf(p)), p.shape.reduce((a, b) => a * b, 1), hashName(p.name, seed)),
    })),
    { metadata: { source: 'refree gpu-check seeded random weights', seed: String(seed) } },
  );
  return { file, bytes: r.bytes, tensors: specs.length, seconds: (performance.now() - t0) / 1000 };
}

interface Place {
  offset: number;
  length: number;
  shape: readonly number[];
}

/**
 * Serves float16 initializers stored in a safetensors file as external data. ONNX resolves `location`
 * relative to the .onnx file, so every graph built with it must be saved in `modelDir`.
 */
export class FileWeightProvider implements WeightProvider {
  private readonly perGraph = new Map<Graph, Map<string, Tensor>>();
  private constructor(
    private readonly table: ReadonlyMap<string, Place>,
    private readonly location: string,
    private readonly source: string,
  ) {}

  static async open(file: string, modelDir: string): Promise<FileWeightProvider> {
    const st = await SafetensorsFile.open(file);
    try {
      const table = new Map<string, Place>();
      for (const t of st.tensors()) {
        if (t.dtype !== 'F16') throw new Error(`${file}: tensor '${t.name}' is ${t.dtype}; the GPU check writes float16 weights only (delete the file to have it rewritten)`);
        table.set(t.name, { offset: t.fileOffset, length: t.byteLength, shape: t.shape });
      }
      return new FileWeightProvider(table, path.relative(modelDir, file).split(path.sep).join('/'), file);
    } finally {
      await st.close();
    }
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.table.get(name)?.shape;
  }

  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    let m = this.perGraph.get(g);
    if (!m) this.perGraph.set(g, (m = new Map()));
    const hit = m.get(name);
    if (hit) return hit;
    const p = this.table.get(name);
    if (!p) throw new MissingWeightError(name, this.source);
    if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${this.source}: '${name}' has shape [${p.shape.join(',')}], the architecture needs [${shape.join(',')}] (delete the file to have it rewritten)`);
    }
    const t = g.initializer(name, 'float16', shape, { kind: 'external', location: this.location, offset: p.offset, length: p.length });
    m.set(name, t);
    return t;
  }
}

/** Each name goes to the first provider that has it (DiT + speech modules in one graph). */
export function unionProvider(parts: readonly FileWeightProvider[]): WeightProvider {
  return { get: (g, name, shape) => (parts.find((p) => p.has(name)) ?? parts[0]!).get(g, name, shape) };
}
