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
import { axisBump, canonicalChipMeans, chipProjections, CHIPS, GRID, layout, qimTarget } from './layout.js';
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
/** Largest |β|: the change never exceeds the budget. */
const BETA_MAX = 1;
/** Jacobi iterations of the per-frame solve (cross-talk between neighbouring chips is small). */
const ITERATIONS = 4;

/** Mean over a (2r+1)² window, clamped at the borders (separable running sums). */
export function boxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    let n = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) {
      s += src[o + x]!;
      n++;
    }
    for (let x = 0; x < w; x++) {
      tmp[o + x] = s / n;
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
  for (let x = 0; x < w; x++) {
    let s = 0;
    let n = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) {
      s += tmp[y * w + x]!;
      n++;
    }
    for (let y = 0; y < h; y++) {
      out[y * w + x] = s / n;
      const add = y + r + 1;
      const del = y - r;
      if (add < h) {
        s += tmp[add * w + x]!;
        n++;
      }
      if (del >= 0) {
        s -= tmp[del * w + x]!;
        n--;
      }
    }
  }
  return out;
}

/** BT.601 luma of an RGB24 frame, as floats. */
export function lumaOf(rgb: Uint8Array, w: number, h: number): Float32Array {
  const y = new Float32Array(w * h);
  for (let i = 0, p = 0; i < w * h; i++, p += 3) y[i] = 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
  return y;
}

/**
 * The visibility budget B(x): the largest peak change (luma levels) the pattern may make at x.
 * Texture masks a change of similar size, so B grows with the local texture T (RMS of the picture
 * minus its 3×3 mean, over a chip-sized window): B = A_SMOOTH + K_TEXTURE·T, capped at A_MAX. Where
 * the picture is flat (local standard deviation ≤ FLAT_STD, e.g. a grey backdrop) B ramps to exactly
 * 0: there nothing would hide the pattern. Window sizes follow the chip size.
 */
export function visibilityBudget(luma: Float32Array, w: number, h: number): Float32Array {
  const r = Math.max(2, Math.round(Math.min(w, h) / GRID / 2));
  const blur = boxMean(luma, w, h, 1);
  const hp2 = new Float32Array(w * h);
  const sq = new Float32Array(w * h);
  for (let i = 0; i < hp2.length; i++) {
    // Clipped, so that one strong edge does not count as texture for the flat area beside it.
    const d = Math.min(HP_CLIP, Math.abs(luma[i]! - blur[i]!));
    hp2[i] = d * d;
    sq[i] = luma[i]! * luma[i]!;
  }
  const energy = boxMean(hp2, w, h, r);
  const mean = boxMean(luma, w, h, r);
  const meanSq = boxMean(sq, w, h, r);
  const b = new Float32Array(w * h);
  for (let i = 0; i < b.length; i++) {
    const std = Math.sqrt(Math.max(0, meanSq[i]! - mean[i]! * mean[i]!));
    const notFlat = Math.min(1, Math.max(0, (std - FLAT_STD) / (3 * FLAT_STD)));
    b[i] = notFlat * Math.min(A_MAX, A_SMOOTH + K_TEXTURE * Math.sqrt(energy[i]!));
  }
  return b;
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

export function createInvisibleEmbedder(payload: bigint, opts: InvisibleOptions = {}): InvisibleEmbedder {
  const strength = opts.strength ?? DEFAULT_STRENGTH;
  if (!(strength > 0 && strength <= 4)) throw new RangeError(`watermark strength must be in (0, 4], got ${strength}`);
  const coded = codedBits(payload);
  let axes: { w: number; h: number; cols: ReturnType<typeof axisBump>; rows: ReturnType<typeof axisBump> } | null = null;

  return {
    embed(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
      if (!axes || axes.w !== width || axes.h !== height) axes = { w: width, h: height, cols: axisBump(width), rows: axisBump(height) };
      const { cols, rows } = axes;
      const luma = lumaOf(rgb, width, height);
      const budget = visibilityBudget(luma, width, height);

      // The unit pattern U = strength·B·c_j·bump_j and what the detector reads of it, chip by chip.
      // Chip means are linear and each bump lies inside its chip, so a frame marked with factors β
      // reads as host + β_{k(j)}·u_j: the solve below runs on 1024 numbers, not on pixels.
      const U = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        const by = rows.bump[y]!;
        const rowChip = rows.chip[y]! * GRID;
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          U[i] = strength * budget[i]! * layout.sign[rowChip + cols.chip[x]!]! * by * cols.bump[x]!;
        }
      }
      const host = canonicalChipMeans(luma, width, height);
      const u = canonicalChipMeans(U, width, height);
      // Each chip is quantised on its own (not per coded bit), so a chip whose picture does not
      // change gets exactly the same change in every frame: a static pattern in static regions,
      // which is what a codec's skipped and predicted blocks preserve.
      const pHost = chipProjections(host);
      const target = Float64Array.from(pHost, (v, j) => qimTarget(v, coded[layout.bit[j]!]!));
      // Self-gain: how far one unit of β_j moves chip j's own projection.
      const gain = Float64Array.from(u, (v, j) => v * layout.sign[j]!);
      const beta = new Float64Array(CHIPS);
      const cand = new Float64Array(CHIPS);
      const p = new Float64Array(CHIPS);
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
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          if (U[i] === 0) continue;
          const d = beta[rowChip + cols.chip[x]!]! * U[i]!;
          absSum += Math.abs(d);
          const p = i * 3;
          for (let c = 0; c < 3; c++) {
            const v = Math.round(rgb[p + c]! + d);
            rgb[p + c] = v < 0 ? 0 : v > 255 ? 255 : v;
          }
        }
      }
      return { meanAbsDelta: absSum / (width * height), meanBeta: betaSum / CHIPS, unreached };
    },
  };
}
