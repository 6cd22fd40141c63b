// The invisible layer's embedder. For each RGB frame it adds the same luma change to R, G and B
// (chroma untouched):
//
//   Δ(x) = strength · M(x) · β_k · b_k · c_j · bump_j(x)       (j = the chip of pixel x, k = its coded bit)
//
// - b_k ∈ ±1 is coded bit k, c_j the chip's keyed sign, bump_j the chip's smooth shape (layout.ts);
// - M(x) ∈ [0, 1] is a perceptual mask: local high-frequency texture energy. Texture hides a small
//   low-frequency change; flat areas and smooth gradients do not, so there M → 0 (on a flat grey
//   frame the watermark adds exactly nothing);
// - β_k is informed embedding ("improved spread spectrum"): the embedder measures what the detector
//   will measure on the unmarked frame for bit k and, where the picture itself pushes that bit the
//   wrong way, embeds harder to cancel it (up to a cap); where the picture already agrees it embeds
//   less. This removes most of the host-image interference, which is the main source of bit errors
//   for a static pattern on talking-head video (the same face in every frame does not average out).
import { axisBump, chipMeans, chipResiduals, CHIPS, GRID, layout } from './layout.js';
import { CODED_BITS, codedBits } from './message.js';

export interface InvisibleOptions {
  /** Peak luma change in levels where texture fully masks it (default 4). */
  strength?: number;
}

/** Texture energy (high-pass RMS, 8-bit levels) below which nothing is embedded, and at which M = 1. */
export const MASK_FLOOR = 0.75;
export const MASK_FULL = 5;
/** Bounds of the informed-embedding factor β. */
const BETA_MIN = 0.35;
const BETA_MAX = 2.5;
/** Fraction of the host's opposing projection the embedder cancels. */
const CANCEL = 0.9;

/** Mean over a (2r+1)² window, clamped at the borders (separable running sums). */
export function boxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    let n = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) (s += src[o + x]!), n++;
    for (let x = 0; x < w; x++) {
      tmp[o + x] = s / n;
      const add = x + r + 1;
      const del = x - r;
      if (add < w) (s += src[o + add]!), n++;
      if (del >= 0) (s -= src[o + del]!), n--;
    }
  }
  for (let x = 0; x < w; x++) {
    let s = 0;
    let n = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) (s += tmp[y * w + x]!), n++;
    for (let y = 0; y < h; y++) {
      out[y * w + x] = s / n;
      const add = y + r + 1;
      const del = y - r;
      if (add < h) (s += tmp[add * w + x]!), n++;
      if (del >= 0) (s -= tmp[del * w + x]!), n--;
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

/** The perceptual mask M ∈ [0, 1] (see the header). Window sizes follow the chip size. */
export function perceptualMask(luma: Float32Array, w: number, h: number): Float32Array {
  const blur = boxMean(luma, w, h, 1);
  const hp2 = new Float32Array(w * h);
  for (let i = 0; i < hp2.length; i++) {
    const d = luma[i]! - blur[i]!;
    hp2[i] = d * d;
  }
  const r = Math.max(2, Math.round(Math.min(w, h) / GRID / 2));
  const energy = boxMean(hp2, w, h, r);
  const m = new Float32Array(w * h);
  for (let i = 0; i < m.length; i++) {
    const a = Math.sqrt(energy[i]!);
    m[i] = Math.min(1, Math.max(0, (a - MASK_FLOOR) / (MASK_FULL - MASK_FLOOR)));
  }
  return m;
}

export interface EmbedStats {
  /** Mean |Δ| over the frame, in levels (before rounding). */
  meanAbsDelta: number;
  /** Mean β (1 = plain spread spectrum). */
  meanBeta: number;
}

export interface InvisibleEmbedder {
  embed(rgb: Uint8Array, width: number, height: number): EmbedStats;
}

export function createInvisibleEmbedder(payload: bigint, opts: InvisibleOptions = {}): InvisibleEmbedder {
  const strength = opts.strength ?? 4;
  if (!(strength >= 0 && strength <= 32)) throw new RangeError(`watermark strength must be in [0, 32] levels, got ${strength}`);
  const coded = codedBits(payload);
  // Per chip: ±1 = coded bit sign × chip sign.
  const chipDir = Int8Array.from({ length: CHIPS }, (_, j) => (coded[layout.bit[j]!]! ? 1 : -1) * layout.sign[j]!);
  let axes: { w: number; h: number; cols: ReturnType<typeof axisBump>; rows: ReturnType<typeof axisBump> } | null = null;

  return {
    embed(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
      if (!axes || axes.w !== width || axes.h !== height) axes = { w: width, h: height, cols: axisBump(width), rows: axisBump(height) };
      const { cols, rows } = axes;
      const luma = lumaOf(rgb, width, height);
      const mask = perceptualMask(luma, width, height);

      // What the detector would read for each coded bit on the unmarked frame (s_k), and how much one
      // unit of embedding moves it (gain_k): the bump-weighted chip mean of M·bump per chip.
      const res = chipResiduals(chipMeans(luma, width, height, cols, rows));
      const mb = new Float32Array(width * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mb[y * width + x] = mask[y * width + x]! * rows.bump[y]! * cols.bump[x]!;
      const g = chipMeans(mb, width, height, cols, rows);
      const s = new Float64Array(CODED_BITS);
      const gain = new Float64Array(CODED_BITS);
      for (let j = 0; j < CHIPS; j++) {
        const k = layout.bit[j]!;
        // Oriented so that positive = agrees with the bit being written.
        s[k] += chipDir[j]! * res[j]!;
        gain[k] += g[j]!;
      }
      const beta = new Float64Array(CODED_BITS);
      let betaSum = 0;
      for (let k = 0; k < CODED_BITS; k++) {
        const unit = strength * gain[k]!;
        beta[k] = unit > 1e-9 ? Math.min(BETA_MAX, Math.max(BETA_MIN, 1 - (CANCEL * s[k]!) / unit)) : 1;
        betaSum += beta[k]!;
      }

      let absSum = 0;
      for (let y = 0; y < height; y++) {
        const by = rows.bump[y]!;
        const rowChip = rows.chip[y]! * GRID;
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          const m = mask[i]!;
          if (m === 0) continue;
          const j = rowChip + cols.chip[x]!;
          const d = strength * m * beta[layout.bit[j]!]! * chipDir[j]! * by * cols.bump[x]!;
          absSum += Math.abs(d);
          const p = i * 3;
          for (let c = 0; c < 3; c++) {
            const v = Math.round(rgb[p + c]! + d);
            rgb[p + c] = v < 0 ? 0 : v > 255 ? 255 : v;
          }
        }
      }
      return { meanAbsDelta: absSum / (width * height), meanBeta: betaSum / CODED_BITS };
    },
  };
}
