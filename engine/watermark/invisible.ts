// The invisible layer's embedder. For each RGB frame it adds the same luma change to R, G and B
// (chroma untouched):
//
//   Δ(x) = β_j · strength · B(x) · c_j · bump_j(x)          (j = the chip of pixel x, |β_j| ≤ 1)
//
// - c_j ∈ ±1 is chip j's keyed sign and bump_j its smooth shape (layout.ts);
// - B(x) is a visibility budget in luma levels (visibilityBudget): small where the picture is smooth,
//   larger where texture hides a change, exactly 0 where the picture is flat (so on a flat grey frame
//   the watermark adds nothing at all);
// - β_j is chosen by quantisation index modulation (QIM, informed embedding): the embedder measures
//   the projection p_j = c_j·r_j the detector will read from the unmarked frame and moves it by the
//   least amount onto the lattice of the bit the chip carries (layout.ts: qimTarget). The picture
//   itself therefore does not interfere with the mark, which is what a static pattern on a
//   talking-head video needs: the same face in every frame would not average out over frames.
//   Each chip is quantised on its own, so where the picture does not change, the change added is the
//   same in every frame: a static pattern, which a codec's skipped and predicted blocks keep. (Per-bit
//   quantisation, pooling a bit's chips, made the pattern flicker and P-frames dropped it.)
import { areaWeights, axisBump, CANONICAL, chipProjections, CHIPS, GRID, layout, qimTarget } from './layout.js';
import { codedBits } from './message.js';

export interface InvisibleOptions {
  /** Multiplier on the visibility budget, in (0, 4] (default DEFAULT_STRENGTH = 1). */
  strength?: number;
}

/** Default strength: a multiplier on the visibility budget (docs/WATERMARK.md). */
export const DEFAULT_STRENGTH = 1;
/** The visibility budget, peak luma change in levels: A_SMOOTH + K_TEXTURE·T, at most A_MAX. */
export const A_SMOOTH = 1.5;
export const K_TEXTURE = 1.5;
export const A_MAX = 10;
/** High-pass values are clipped at this many levels before they count as texture. */
const HP_CLIP = 6;
/** Local standard deviation (levels) at or below which a region counts as flat and gets nothing. */
export const FLAT_STD = 0.4;
/**
 * Variances that settle notFlat without its square root: at or above this one (std ≥ 1.603, past
 * 4·FLAT_STD = 1.6 by far more than any rounding) it is 1; at or below the next (std ≤ 0.3987, under
 * FLAT_STD) it is 0.
 */
const NOT_FLAT_VARIANCE = 2.57;
const FLAT_VARIANCE = 0.159;
/** Largest |β|: the change never exceeds the budget. */
const BETA_MAX = 1;
/** Jacobi iterations of the per-frame solve (cross-talk between neighbouring chips is small). */
const ITERATIONS = 4;

/**
 * The horizontal half of boxMean over three planes at once: each row's running mean over 2r+1
 * columns, clamped at the borders, with the same additions in the same order for each plane as
 * boxRows1 (so the results are identical), in one sweep instead of three.
 */
function boxRows3(a: Float32Array, b: Float32Array, c: Float32Array, da: Float32Array, db: Float32Array, dc: Float32Array, w: number, h: number, r: number): void {
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let sa = 0;
    let sb = 0;
    let sc = 0;
    let n = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) {
      sa += a[o + x]!;
      sb += b[o + x]!;
      sc += c[o + x]!;
      n++;
    }
    for (let x = 0; x < w; x++) {
      da[o + x] = sa / n;
      db[o + x] = sb / n;
      dc[o + x] = sc / n;
      const add = x + r + 1;
      const del = x - r;
      if (add < w) {
        sa += a[o + add]!;
        sb += b[o + add]!;
        sc += c[o + add]!;
        n++;
      }
      if (del >= 0) {
        sa -= a[o + del]!;
        sb -= b[o + del]!;
        sc -= c[o + del]!;
        n--;
      }
    }
  }
}

/** The horizontal half of boxMean: each row's running mean over 2r+1 columns, clamped at the borders. */
function boxRows1(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    let n = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) {
      s += src[o + x]!;
      n++;
    }
    for (let x = 0; x < w; x++) {
      dst[o + x] = s / n;
      const add = x + r + 1;
      const del = x - r;
      if (add < w) {
        s += src[o + add]!;
        n++;
      }
      if (del >= 0) {
        s -= src[o + del]!;
        n--;
      }
    }
  }
}

/**
 * The vertical half of boxMean, row by row: `colSum` keeps every column's running sum (float64,
 * the same additions in the same order as a column-at-a-time sweep, so the result is identical)
 * and `row(y, n)` is called when colSum holds the sums for output row y over n rows. Sweeping rows
 * instead of columns reads memory in order.
 */
function boxColumns(src: Float32Array, colSum: Float64Array, w: number, h: number, r: number, row: (y: number, n: number) => void): void {
  colSum.fill(0, 0, w);
  let n = 0;
  for (let y = 0; y <= Math.min(r, h - 1); y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) colSum[x] = colSum[x]! + src[o + x]!;
    n++;
  }
  for (let y = 0; y < h; y++) {
    row(y, n);
    const add = y + r + 1;
    const del = y - r;
    if (add < h) {
      const o = add * w;
      for (let x = 0; x < w; x++) colSum[x] = colSum[x]! + src[o + x]!;
      n++;
    }
    if (del >= 0) {
      const o = del * w;
      for (let x = 0; x < w; x++) colSum[x] = colSum[x]! - src[o + x]!;
      n--;
    }
  }
}

/**
 * Mean over a (2r+1)² window, clamped at the borders (separable running sums). `out` and `tmp`
 * (each w·h long) may be given to avoid allocating; `out` is returned.
 */
export function boxMean(src: Float32Array, w: number, h: number, r: number, out: Float32Array = new Float32Array(w * h), tmp: Float32Array = new Float32Array(w * h)): Float32Array {
  boxRows1(src, tmp, w, h, r);
  const colSum = new Float64Array(w);
  boxColumns(tmp, colSum, w, h, r, (y, n) => {
    const o = y * w;
    for (let x = 0; x < w; x++) out[o + x] = colSum[x]! / n;
  });
  return out;
}

/** BT.601 luma of an RGB24 frame, as floats (into `out` when given). */
export function lumaOf(rgb: Uint8Array, w: number, h: number, out: Float32Array = new Float32Array(w * h)): Float32Array {
  for (let i = 0, p = 0; i < w * h; i++, p += 3) out[i] = 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
  return out;
}

/** Every plane and sum the budget needs for one frame size, allocated once per size. */
class BudgetScratch {
  readonly r: number;
  readonly t0: Float32Array;
  readonly hp2: Float32Array;
  readonly sq: Float32Array;
  readonly tE: Float32Array;
  readonly tM: Float32Array;
  readonly tS: Float32Array;
  readonly c0: Float64Array;
  readonly c1: Float64Array;
  readonly c2: Float64Array;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    const n = w * h;
    this.r = Math.max(2, Math.round(Math.min(w, h) / GRID / 2));
    this.t0 = new Float32Array(n);
    this.hp2 = new Float32Array(n);
    this.sq = new Float32Array(n);
    this.tE = new Float32Array(n);
    this.tM = new Float32Array(n);
    this.tS = new Float32Array(n);
    this.c0 = new Float64Array(w);
    this.c1 = new Float64Array(w);
    this.c2 = new Float64Array(w);
  }
}

/**
 * The budget's arithmetic, with its planes in `sc`; `emit(y)` is called once `out` holds row y (so
 * the embedder can build its pattern row by row while the row is still in cache). The vertical box
 * sums run row by row (each column's running sum in a float64 array: the same additions in the same
 * order as a column-at-a-time sweep), fused with the per-pixel work that reads them. Every value is
 * rounded to float32 exactly where the plain version (one Float32Array per step) stores it:
 * Math.fround marks those places.
 */
function budgetInto(luma: Float32Array, sc: BudgetScratch, out: Float32Array, emit?: (y: number) => void): void {
  const { w, h, r, t0, hp2, sq, tE, tM, tS, c0, c1, c2 } = sc;
  // blur = 3×3 mean of luma; hp2 = clipped high-pass², sq = luma².
  boxRows1(luma, t0, w, h, 1);
  c0.fill(0, 0, w);
  let n = 0;
  for (let y = 0; y <= Math.min(1, h - 1); y++, n++) for (let x = 0, o = y * w; x < w; x++) c0[x] = c0[x]! + t0[o + x]!;
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const add = y + 2 < h ? (y + 2) * w : -1;
    const del = y - 1 >= 0 ? (y - 1) * w : -1;
    for (let x = 0; x < w; x++) {
      let s = c0[x]!;
      const l = luma[o + x]!;
      // Clipped, so that one strong edge does not count as texture for the flat area beside it.
      const d = Math.min(HP_CLIP, Math.abs(l - Math.fround(s / n)));
      hp2[o + x] = d * d;
      sq[o + x] = l * l;
      if (add >= 0) s += t0[add + x]!;
      if (del >= 0) s -= t0[del + x]!;
      c0[x] = s;
    }
    if (add >= 0) n++;
    if (del >= 0) n--;
  }
  // energy, mean and meanSq: the three chip-sized box means, in one sweep each way.
  boxRows3(hp2, luma, sq, tE, tM, tS, w, h, r);
  c0.fill(0, 0, w);
  c1.fill(0, 0, w);
  c2.fill(0, 0, w);
  n = 0;
  for (let y = 0; y <= Math.min(r, h - 1); y++, n++) {
    for (let x = 0, o = y * w; x < w; x++) {
      c0[x] = c0[x]! + tE[o + x]!;
      c1[x] = c1[x]! + tM[o + x]!;
      c2[x] = c2[x]! + tS[o + x]!;
    }
  }
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const add = y + r + 1 < h ? (y + r + 1) * w : -1;
    const del = y - r >= 0 ? (y - r) * w : -1;
    for (let x = 0; x < w; x++) {
      let se = c0[x]!;
      let sm = c1[x]!;
      let ss = c2[x]!;
      const mean = Math.fround(sm / n);
      const variance = Math.max(0, Math.fround(ss / n) - mean * mean);
      // notFlat = clamp((std − FLAT_STD) / (3·FLAT_STD), 0, 1), with its square root and division
      // skipped where the variance settles it: well above (4·FLAT_STD)² it is exactly 1 (and 1·x = x),
      // well below FLAT_STD² exactly +0, and the budget +0 whatever the texture term would be.
      if (variance >= NOT_FLAT_VARIANCE) {
        out[o + x] = Math.min(A_MAX, A_SMOOTH + K_TEXTURE * Math.sqrt(Math.fround(se / n)));
      } else if (variance <= FLAT_VARIANCE) {
        out[o + x] = 0;
      } else {
        const notFlat = Math.min(1, Math.max(0, (Math.sqrt(variance) - FLAT_STD) / (3 * FLAT_STD)));
        out[o + x] = notFlat === 0 ? 0 : notFlat * Math.min(A_MAX, A_SMOOTH + K_TEXTURE * Math.sqrt(Math.fround(se / n)));
      }
      if (add >= 0) {
        se += tE[add + x]!;
        sm += tM[add + x]!;
        ss += tS[add + x]!;
      }
      if (del >= 0) {
        se -= tE[del + x]!;
        sm -= tM[del + x]!;
        ss -= tS[del + x]!;
      }
      c0[x] = se;
      c1[x] = sm;
      c2[x] = ss;
    }
    if (add >= 0) n++;
    if (del >= 0) n--;
    if (emit) emit(y);
  }
}

/**
 * The visibility budget B(x): the largest peak change (luma levels) the pattern may make at x.
 * Texture masks a change of similar size, so B grows with the local texture T (RMS of the picture
 * minus its 3×3 mean, over a chip-sized window): B = A_SMOOTH + K_TEXTURE·T, capped at A_MAX. Where
 * the picture is flat (local standard deviation ≤ FLAT_STD, e.g. a grey backdrop) B ramps to exactly
 * 0: there nothing would hide the pattern. Window sizes follow the chip size. Written into `out`
 * when given.
 */
export function visibilityBudget(luma: Float32Array, w: number, h: number, out: Float32Array = new Float32Array(w * h)): Float32Array {
  budgetInto(luma, new BudgetScratch(w, h), out);
  return out;
}

export interface EmbedStats {
  /** Mean |Δ| over the frame, in levels (before rounding). */
  meanAbsDelta: number;
  /** Mean |β| over chips. */
  meanBeta: number;
  /** Chips whose lattice target could not be reached within the budget (flat or smooth areas). */
  unreached: number;
}

export interface InvisibleEmbedder {
  embed(rgb: Uint8Array, width: number, height: number): EmbedStats;
}

/** Per canonical pixel: its chip and its bump weight (as layout.ts's chipMeans computes them). */
const canonical = (() => {
  const axis = axisBump(CANONICAL);
  const chip = new Uint16Array(CANONICAL * CANONICAL);
  const weight = new Float64Array(CANONICAL * CANONICAL);
  const wsum = new Float64Array(CHIPS);
  for (let y = 0, i = 0; y < CANONICAL; y++) {
    for (let x = 0; x < CANONICAL; x++, i++) {
      chip[i] = axis.chip[y]! * GRID + axis.chip[x]!;
      weight[i] = axis.bump[y]! * axis.bump[x]!;
      wsum[chip[i]!] = wsum[chip[i]!]! + weight[i]!;
    }
  }
  return { chip, weight, wsum };
})();

/**
 * layout.ts's canonicalChipMeans for two planes of one size at once (the frame's luma and its unit
 * pattern), with the resize tables and planes kept from frame to frame. Same arithmetic in the same
 * order, so the same numbers: the embedder must measure chips exactly as the detector's code does.
 */
class CanonicalMeans {
  private readonly ax: ReturnType<typeof areaWeights>;
  private readonly ay: ReturnType<typeof areaWeights>;
  private readonly tmpA: Float32Array;
  private readonly tmpB: Float32Array;
  private readonly outA: Float32Array;
  private readonly outB: Float32Array;
  readonly meanA = new Float64Array(CHIPS);
  readonly meanB = new Float64Array(CHIPS);
  constructor(
    private readonly w: number,
    private readonly h: number,
  ) {
    this.ax = areaWeights(w, CANONICAL);
    this.ay = areaWeights(h, CANONICAL);
    this.tmpA = new Float32Array(CANONICAL * h);
    this.tmpB = new Float32Array(CANONICAL * h);
    this.outA = new Float32Array(CANONICAL * CANONICAL);
    this.outB = new Float32Array(CANONICAL * CANONICAL);
  }

  /** Chip means of `a` into meanA and of `b` into meanB. */
  measure(a: Float32Array, b: Float32Array): void {
    const { w, h } = this;
    let ca = a;
    let cb = b;
    if (w !== CANONICAL || h !== CANONICAL) {
      const { tmpA, tmpB, outA, outB } = this;
      const { idx: xi, w: xw, start: xs } = this.ax;
      for (let y = 0; y < h; y++) {
        const o = y * w;
        const t = y * CANONICAL;
        for (let d = 0; d < CANONICAL; d++) {
          let sa = 0;
          let sb = 0;
          for (let i = xs[d]!, end = xs[d + 1]!; i < end; i++) {
            const wt = xw[i]!;
            const s = o + xi[i]!;
            sa += wt * a[s]!;
            sb += wt * b[s]!;
          }
          tmpA[t + d] = sa;
          tmpB[t + d] = sb;
        }
      }
      outA.fill(0);
      outB.fill(0);
      const { idx: yi, w: yw, start: ys } = this.ay;
      for (let d = 0; d < CANONICAL; d++) {
        const o = d * CANONICAL;
        for (let i = ys[d]!, end = ys[d + 1]!; i < end; i++) {
          const wy = yw[i]!;
          const row = yi[i]! * CANONICAL;
          for (let x = 0; x < CANONICAL; x++) {
            outA[o + x] = outA[o + x]! + wy * tmpA[row + x]!;
            outB[o + x] = outB[o + x]! + wy * tmpB[row + x]!;
          }
        }
      }
      ca = outA;
      cb = outB;
    }
    const { meanA, meanB } = this;
    const { chip, weight, wsum } = canonical;
    meanA.fill(0);
    meanB.fill(0);
    for (let i = 0; i < CANONICAL * CANONICAL; i++) {
      const j = chip[i]!;
      const wt = weight[i]!;
      meanA[j] = meanA[j]! + wt * ca[i]!;
      meanB[j] = meanB[j]! + wt * cb[i]!;
    }
    for (let j = 0; j < CHIPS; j++) {
      meanA[j] = wsum[j]! > 0 ? meanA[j]! / wsum[j]! : 0;
      meanB[j] = wsum[j]! > 0 ? meanB[j]! / wsum[j]! : 0;
    }
  }
}

/** How many significant bits a positive number's binary mantissa has (1 for powers of two, 2 for 1.5). */
function significantBits(v: number): number {
  let m = v;
  while (!Number.isInteger(m)) m *= 2; // exact: v > 0 is a finite double
  while (m % 2 === 0) m /= 2;
  return Math.floor(Math.log2(m)) + 1;
}

/** Everything the embedder needs per frame size, allocated once per size and reused frame after frame. */
class FrameScratch {
  readonly cols: { chip: Int32Array; bump: Float32Array };
  readonly rows: { chip: Int32Array; bump: Float32Array };
  readonly budget: BudgetScratch;
  readonly luma: Float32Array;
  readonly b: Float32Array;
  readonly U: Float32Array;
  readonly chips: CanonicalMeans;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.cols = axisBump(w);
    this.rows = axisBump(h);
    this.budget = new BudgetScratch(w, h);
    this.luma = new Float32Array(w * h);
    this.b = new Float32Array(w * h);
    this.U = new Float32Array(w * h);
    this.chips = new CanonicalMeans(w, h);
  }

  private cb: Float64Array | null = null;
  /** Per pixel c_j·by·bx (sign times both bumps; exact in float64), built on first use. */
  signBump(): Float64Array {
    if (!this.cb) {
      const { w, h, cols, rows } = this;
      const cb = new Float64Array(w * h);
      for (let y = 0; y < h; y++) {
        const by = rows.bump[y]!;
        const rowChip = rows.chip[y]! * GRID;
        for (let x = 0; x < w; x++) cb[y * w + x] = layout.sign[rowChip + cols.chip[x]!]! * by * cols.bump[x]!;
      }
      this.cb = cb;
    }
    return this.cb;
  }
}

export function createInvisibleEmbedder(payload: bigint, opts: InvisibleOptions = {}): InvisibleEmbedder {
  const strength = opts.strength ?? DEFAULT_STRENGTH;
  if (!(strength > 0 && strength <= 4)) throw new RangeError(`watermark strength must be in (0, 4], got ${strength}`);
  const coded = codedBits(payload);
  const shortStrength = significantBits(strength) <= 5;
  const bitOfChip = Uint8Array.from(layout.bit, (k) => coded[k]!);
  let sc: FrameScratch | null = null;
  const beta = new Float64Array(CHIPS);
  const cand = new Float64Array(CHIPS);
  const p = new Float64Array(CHIPS);
  const target = new Float64Array(CHIPS);
  const gain = new Float64Array(CHIPS);

  return {
    embed(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
      if (!sc || sc.w !== width || sc.h !== height) sc = new FrameScratch(width, height);
      const { cols, rows, luma, b, U } = sc;
      const colChip = cols.chip;
      const colBump = cols.bump;
      const sign = layout.sign;
      lumaOf(rgb, width, height, luma);

      // The unit pattern U = strength·B·c_j·bump_j, built row by row as the budget's rows come out
      // (same multiplication order as ever: the pattern must not change by a rounding).
      if (shortStrength) {
        // strength·B·c·by·bx with strength·B·by exact in float64 (24 + 5 + 24 bits): the product
        // is rounded once, at the last multiplication, whichever way it is grouped; so one
        // multiplication by the per-size table c·by·bx (48 bits, exact) gives the same numbers.
        const cb = sc.signBump();
        budgetInto(luma, sc.budget, b, (y) => {
          for (let i = y * width, end = i + width; i < end; i++) U[i] = strength * b[i]! * cb[i]!;
        });
      } else {
        budgetInto(luma, sc.budget, b, (y) => {
          const by = rows.bump[y]!;
          const rowChip = rows.chip[y]! * GRID;
          const o = y * width;
          for (let x = 0; x < width; x++) U[o + x] = strength * b[o + x]! * sign[rowChip + colChip[x]!]! * by * colBump[x]!;
        });
      }

      // What the detector reads of the host and of U, chip by chip. Chip means are linear and each
      // bump lies inside its chip, so a frame marked with factors β reads as host + β_{k(j)}·u_j:
      // the solve below runs on 1024 numbers, not on pixels.
      sc.chips.measure(luma, U);
      const host = sc.chips.meanA;
      const u = sc.chips.meanB;
      // Each chip is quantised on its own (not per coded bit), so a chip whose picture does not
      // change gets exactly the same change in every frame: a static pattern in static regions,
      // which is what a codec's skipped and predicted blocks preserve.
      chipProjections(host, p);
      for (let j = 0; j < CHIPS; j++) {
        target[j] = qimTarget(p[j]!, bitOfChip[j]!);
        // Self-gain: how far one unit of β_j moves chip j's own projection.
        gain[j] = u[j]! * sign[j]!;
      }
      beta.fill(0);
      for (let it = 0; it < ITERATIONS; it++) {
        for (let j = 0; j < CHIPS; j++) cand[j] = host[j]! + beta[j]! * u[j]!;
        chipProjections(cand, p);
        for (let j = 0; j < CHIPS; j++) {
          if (gain[j]! < 1e-6) continue;
          beta[j] = Math.min(BETA_MAX, Math.max(-BETA_MAX, beta[j]! + (target[j]! - p[j]!) / gain[j]!));
        }
      }
      let betaSum = 0;
      let unreached = 0;
      for (let j = 0; j < CHIPS; j++) {
        betaSum += Math.abs(beta[j]!);
        if (Math.abs(beta[j]!) >= BETA_MAX || gain[j]! < 1e-6) unreached++;
      }

      let absSum = 0;
      for (let y = 0; y < height; y++) {
        const rowChip = rows.chip[y]! * GRID;
        const o = y * width;
        for (let x = 0; x < width; x++) {
          const i = o + x;
          const ui = U[i]!;
          if (ui === 0) continue;
          const d = beta[rowChip + colChip[x]!]! * ui;
          const ad = Math.abs(d);
          absSum += ad;
          // An integer sample plus less than half a level (0.49, far from any rounding of v + d)
          // rounds back to itself: nothing to write.
          if (ad <= 0.49) continue;
          const q = i * 3;
          const r0 = Math.round(rgb[q]! + d);
          const g0 = Math.round(rgb[q + 1]! + d);
          const b0 = Math.round(rgb[q + 2]! + d);
          // Uint8Array stores clamp out-of-range values the wrong way (wrap-around), so clamp here.
          rgb[q] = r0 < 0 ? 0 : r0 > 255 ? 255 : r0;
          rgb[q + 1] = g0 < 0 ? 0 : g0 > 255 ? 255 : g0;
          rgb[q + 2] = b0 < 0 ? 0 : b0 > 255 ? 255 : b0;
        }
      }
      return { meanAbsDelta: absSum / (width * height), meanBeta: betaSum / CHIPS, unreached };
    },
  };
}
