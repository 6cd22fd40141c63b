// Small statistics on per-frame series. Missing values are NaN throughout: every function here skips
// them pairwise rather than treating them as zero.

/** Pearson correlation over the indices where both are finite; NaN when fewer than 3 or no variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let m = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) {
      sa += a[i]!;
      sb += b[i]!;
      m++;
    }
  }
  if (m < 3) return NaN;
  const ma = sa / m;
  const mb = sb / m;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) {
      const x = a[i]! - ma;
      const y = b[i]! - mb;
      cov += x * y;
      va += x * x;
      vb += y * y;
    }
  }
  if (va <= 1e-20 || vb <= 1e-20) return NaN;
  return cov / Math.sqrt(va * vb);
}

/** (x − mean) / std over the finite values; NaN stays NaN; all zeros when there is no variance. */
export function standardize(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  let s = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]!)) {
      s += x[i]!;
      m++;
    }
  }
  const mean = m ? s / m : 0;
  let v = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) v += (x[i]! - mean) ** 2;
  const sd = m > 1 ? Math.sqrt(v / m) : 0;
  for (let i = 0; i < x.length; i++) out[i] = Number.isFinite(x[i]!) ? (sd > 1e-12 ? (x[i]! - mean) / sd : 0) : NaN;
  return out;
}

/** RMS difference of the two series after standardising each (0 = same shape; √2 ≈ unrelated). */
export function standardizedRmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = standardize(a);
  const sb = standardize(b);
  let s = 0;
  let m = 0;
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (Number.isFinite(sa[i]!) && Number.isFinite(sb[i]!)) {
      s += (sa[i]! - sb[i]!) ** 2;
      m++;
    }
  }
  return m ? Math.sqrt(s / m) : NaN;
}

export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) {
      s += values[i]!;
      m++;
    }
  }
  return m ? s / m : NaN;
}

/** { mean, min, max } of the finite values (NaN each when there are none). */
export function summary(values: readonly number[]): { mean: number; min: number; max: number; n: number } {
  const v = values.filter(Number.isFinite);
  if (!v.length) return { mean: NaN, min: NaN, max: NaN, n: 0 };
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/**
 * Fills runs of NaN no longer than `maxGap` by linear interpolation between their finite neighbours
 * (a run at either end takes the nearest finite value). Longer runs stay NaN. Returns the filled copy
 * and how many values were filled.
 */
export function fillGaps(x: ArrayLike<number>, maxGap: number): { values: Float64Array; filled: number } {
  const out = Float64Array.from(x as ArrayLike<number>);
  let filled = 0;
  let i = 0;
  while (i < out.length) {
    if (Number.isFinite(out[i]!)) {
      i++;
      continue;
    }
    let j = i;
    while (j < out.length && !Number.isFinite(out[j]!)) j++;
    const len = j - i;
    const left = i > 0 ? out[i - 1]! : NaN;
    const right = j < out.length ? out[j]! : NaN;
    if (len <= maxGap && (Number.isFinite(left) || Number.isFinite(right))) {
      for (let k = i; k < j; k++) {
        const t = (k - i + 1) / (len + 1);
        out[k] = Number.isFinite(left) && Number.isFinite(right) ? left + (right - left) * t : Number.isFinite(left) ? left : right;
      }
      filled += len;
    }
    i = j;
  }
  return { values: out, filled };
}

/** Numbers rounded for reports (NaN / ±Infinity become null, so the report stays valid JSON). */
export function round(x: number, digits = 4): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
