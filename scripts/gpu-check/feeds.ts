// Inputs for timing runs: seeded values of a plausible scale for every graph input, by name where the
// name has a meaning (timesteps, masks) and standard normals otherwise, in the input's dtype.
import type { AnyTypedArray } from '../../engine/graph/dtype.js';
import { f16ToF32, f32ToF16 } from '../../engine/graph/half.js';
import { seededNormal } from '../../engine/model/random-weights.js';
import type { IoSpec } from '../../engine/runtime/session.js';

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Values as float32, before conversion to the input's dtype. */
function valuesFor(io: IoSpec, seed: number): Float32Array {
  const n = numel(io.shape);
  if (io.name === 'timesteps') {
    // [B, F]: frame 0 is the clean reference image's latent (t = 0), the rest mid-schedule.
    const F = io.shape[io.shape.length - 1]!;
    return Float32Array.from({ length: n }, (_, i) => (i % F === 0 ? 0 : 500));
  }
  if (/mask/.test(io.name)) return new Float32Array(n).fill(1);
  // Training-step inputs (engine/train/graphs.ts): a fresh optimizer at step 1, small trainable values.
  if (io.name === 'params' || io.name === 'ref_params') return seededNormal(n, seed + 3, 0.01);
  if (['adam_m', 'adam_v', 'grad_extra'].includes(io.name)) return new Float32Array(n);
  if (['step', 'grad_scale', 'weight', 'omega'].includes(io.name)) return new Float32Array(n).fill(1);
  if (io.name === 'lr') return new Float32Array(n).fill(1e-4);
  if (io.name === 'context') return seededNormal(n, seed + 7, 0.1);
  return seededNormal(n, seed + io.name.length, 1);
}

export function toInputDtype(v: Float32Array, dtype: IoSpec['dtype']): AnyTypedArray {
  if (dtype === 'float32') return v;
  if (dtype === 'float16') return f32ToF16(v).data;
  if (dtype === 'float64') return Float64Array.from(v);
  if (dtype === 'int64') return BigInt64Array.from(v, (x) => BigInt(Math.round(x)));
  if (dtype === 'int32') return Int32Array.from(v, Math.round);
  throw new Error(`the GPU check cannot make test values for a ${dtype} input`);
}

/** One feed per graph input. */
export function makeFeeds(inputs: readonly IoSpec[], seed: number): Record<string, AnyTypedArray> {
  const out: Record<string, AnyTypedArray> = {};
  for (const io of inputs) out[io.name] = toInputDtype(valuesFor(io, seed), io.dtype);
  return out;
}

/** Any output as float32 (fp16 bits converted). */
export function asF32(a: AnyTypedArray): Float32Array {
  if (a instanceof Float32Array) return a;
  if (a instanceof Uint16Array) return f16ToF32(a);
  return Float32Array.from(a as ArrayLike<number>, Number);
}

export function nonFinite(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) n++;
  return n;
}

export interface Diff {
  /** max |a − b| / max |b|: the worst error relative to the reference's range. */
  maxRelErr: number;
  /** mean |a − b| / mean |b|. */
  meanRelErr: number;
  maxAbsErr: number;
  /** max |b|, the reference's range. */
  refMaxAbs: number;
}

/** a (candidate) against b (reference), over entries finite in both (non-finite ones are counted separately). */
export function compare(a: ArrayLike<number>, b: ArrayLike<number>): Diff {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
  let maxAbs = 0;
  let sumAbs = 0;
  let refMax = 0;
  let refSum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const d = Math.abs(x - y);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    const r = Math.abs(y);
    if (r > refMax) refMax = r;
    refSum += r;
    n++;
  }
  const safe = (num: number, den: number): number => (den > 0 ? num / den : num === 0 ? 0 : Infinity);
  return { maxRelErr: safe(maxAbs, refMax), meanRelErr: safe(sumAbs / Math.max(n, 1), refSum / Math.max(n, 1)), maxAbsErr: maxAbs, refMaxAbs: refMax };
}
