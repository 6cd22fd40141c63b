// Merging a LoRA into base weights on the host: W' = W + m·(alpha/r)·B·A, and the inverse
// W = W' − m·(alpha/r)·B·A (wan2.2-ti2v-5b.md §6). Works on MapWeightProvider-style entries with inline
// float32 data; a merged model then runs with no hook at the base model's cost.
//
// Each output row accumulates the rank-r sum in float64 and rounds once to float32, so merge and
// unmerge are each within one fp32 rounding of the exact result (unmerge(merge(W)) ≈ W to ~1 ulp of W,
// not bit-exact: keep the original weights when exactness matters).
import { GraphBuildError } from '../../graph/errors.js';
import type { WeightEntry } from '../weight-provider.js';
import type { LoraAdapter, LoraModule } from './adapter.js';
import { checkModule } from './adapter.js';

export interface MergeOptions {
  /** Strength m (default 1). */
  multiplier?: number;
  /**
   * Write into the existing Float32Arrays instead of copying the touched weights (for the 5B model,
   * where a second copy of every attention/FFN matrix does not fit comfortably). Default false.
   */
  inPlace?: boolean;
}

/** out[o, :] += s · Σ_r B[o, r] · A[r, :], row by row with a float64 accumulator. */
function addDelta(w: Float32Array, m: LoraModule, s: number): void {
  const { a, b, rank, inFeatures: inF, outFeatures: outF } = m;
  const acc = new Float64Array(inF);
  for (let o = 0; o < outF; o++) {
    acc.fill(0);
    for (let r = 0; r < rank; r++) {
      const bv = b[o * rank + r]!;
      if (bv === 0) continue;
      const off = r * inF;
      for (let i = 0; i < inF; i++) acc[i]! += bv * a[off + i]!;
    }
    const row = o * inF;
    for (let i = 0; i < inF; i++) w[row + i] = w[row + i]! + s * acc[i]!;
  }
}

function applyAdapter(weights: ReadonlyMap<string, WeightEntry>, adapter: LoraAdapter, sign: 1 | -1, opts: MergeOptions): Map<string, WeightEntry> {
  const multiplier = opts.multiplier ?? 1;
  if (!Number.isFinite(multiplier)) throw new GraphBuildError('LoRA merge', `multiplier must be finite, got ${multiplier}`);
  const out = new Map(weights);
  for (const [name, m] of adapter) {
    checkModule(name, m);
    const key = `${name}.weight`;
    const e = weights.get(key);
    if (!e) throw new GraphBuildError('LoRA merge', `the adapter has module '${name}' but the weights have no '${key}'`);
    if (e.dtype !== 'float32' || e.data.kind !== 'inline' || !(e.data.data instanceof Float32Array)) {
      throw new GraphBuildError('LoRA merge', `'${key}' must be inline float32 data to merge into (got ${e.dtype}, ${e.data.kind}); load the weights as float32 first`);
    }
    const [outF, inF] = e.shape;
    if (e.shape.length !== 2 || outF !== m.outFeatures || inF !== m.inFeatures) {
      throw new GraphBuildError('LoRA merge', `'${key}' is [${e.shape.join(',')}], the adapter for '${name}' is [${m.outFeatures},${m.inFeatures}]`);
    }
    const w = opts.inPlace ? e.data.data : Float32Array.from(e.data.data);
    addDelta(w, m, (sign * multiplier * m.alpha) / m.rank);
    out.set(key, opts.inPlace ? e : { dtype: 'float32', shape: e.shape, data: { kind: 'inline', data: w } });
  }
  return out;
}

/** W' = W + m·(alpha/r)·B·A for every module of the adapter; other entries are passed through as is. */
export function mergeLora(weights: ReadonlyMap<string, WeightEntry>, adapter: LoraAdapter, opts: MergeOptions = {}): Map<string, WeightEntry> {
  return applyAdapter(weights, adapter, 1, opts);
}

/** W = W' − m·(alpha/r)·B·A: takes a merged LoRA back out (same multiplier as the merge). */
export function unmergeLora(weights: ReadonlyMap<string, WeightEntry>, adapter: LoraAdapter, opts: MergeOptions = {}): Map<string, WeightEntry> {
  return applyAdapter(weights, adapter, -1, opts);
}
