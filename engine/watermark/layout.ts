// Where the invisible watermark lives: a resolution-independent grid of GRID×GRID "chips" stretched
// over the whole frame. Each chip is a smooth bump (sin·sin, zero at its edges, so neighbouring chips
// join without seams) with a keyed sign; its amplitude (invisible.ts) writes the coded bit it carries
// by quantisation, and the detector reads it back from the chip's projection. Low spatial frequency and a
// grid defined relative to the frame, not in pixels, are what survive H.264 quantisation and
// rescaling: the detector resizes every frame to CANONICAL×CANONICAL and finds the same chips.
import { CODED_BITS } from './message.js';
import { KeyedRandom } from './keyed.js';

/** Chips per side of the frame. */
export const GRID = 32;
/** Detector samples per chip side; the detector works on CANONICAL×CANONICAL grey frames. */
export const SAMPLES_PER_CHIP = 4;
export const CANONICAL = GRID * SAMPLES_PER_CHIP;
export const CHIPS = GRID * GRID;

export interface ChipLayout {
  /** ±1 per chip (keyed): spreads each coded bit over chips with random signs, so content does not correlate. */
  sign: Int8Array;
  /** The coded bit each chip carries (keyed permutation: a bit's chips are scattered over the frame). */
  bit: Uint16Array;
}

export const layout: ChipLayout = (() => {
  const r = new KeyedRandom('chip-layout');
  const perm = r.permutation(CHIPS);
  const bit = new Uint16Array(CHIPS);
  for (let i = 0; i < CHIPS; i++) bit[perm[i]!] = i % CODED_BITS;
  const sign = Int8Array.from({ length: CHIPS }, () => r.sign());
  return { sign, bit };
})();

/** For each pixel column (or row) of a frame of `size` pixels: its chip column and bump weight. */
export function axisBump(size: number): { chip: Int32Array; bump: Float32Array } {
  const chip = new Int32Array(size);
  const bump = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const t = ((x + 0.5) * GRID) / size;
    const c = Math.min(GRID - 1, Math.floor(t));
    chip[x] = c;
    bump[x] = Math.sin(Math.PI * (t - c));
  }
  return { chip, bump };
}

/**
 * The detector's chip residuals: each chip's bump-weighted mean minus the mean of its (up to 8)
 * neighbours. Content is smooth at chip scale (gradients cancel exactly), the watermark is not
 * (neighbouring chips have independent signs), so this removes most of the picture and keeps most
 * of the mark.
 */
export function chipResiduals(chipMean: Float64Array, out = new Float64Array(CHIPS)): Float64Array {
  for (let cy = 0; cy < GRID; cy++) {
    for (let cx = 0; cx < GRID; cx++) {
      let s = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const y = cy + dy;
        if (y < 0 || y >= GRID) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = cx + dx;
          if ((dx === 0 && dy === 0) || x < 0 || x >= GRID) continue;
          s += chipMean[y * GRID + x]!;
          n++;
        }
      }
      out[cy * GRID + cx] = chipMean[cy * GRID + cx]! - s / n;
    }
  }
  return out;
}

/** Bump-weighted chip means of a luma plane of any size (the embedder's view of the detector). */
export function chipMeans(luma: ArrayLike<number>, width: number, height: number, cols = axisBump(width), rows = axisBump(height)): Float64Array {
  const sum = new Float64Array(CHIPS);
  const wsum = new Float64Array(CHIPS);
  for (let y = 0; y < height; y++) {
    const by = rows.bump[y]!;
    const base = rows.chip[y]! * GRID;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const w = by * cols.bump[x]!;
      const j = base + cols.chip[x]!;
      sum[j] = sum[j]! + w * luma[o + x]!;
      wsum[j] = wsum[j]! + w;
    }
  }
  for (let j = 0; j < CHIPS; j++) sum[j] = wsum[j]! > 0 ? sum[j]! / wsum[j]! : 0;
  return sum;
}

/**
 * Lattice step of the per-chip quantisation (QIM) code, in luma levels of chip residual. A chip
 * carrying bit 1 has its projection c_j·r_j moved onto Δq/4 + Δq·ℤ, bit 0 onto −Δq/4 + Δq·ℤ.
 */
export const QIM_STEP = 6;

/** Each chip's projection p_j = c_j·r_j (r = chip residuals), written into `out`. */
export function chipProjections(chipMean: Float64Array, out = new Float64Array(CHIPS)): Float64Array {
  chipResiduals(chipMean, out);
  for (let j = 0; j < CHIPS; j++) out[j] = out[j]! * layout.sign[j]!;
  return out;
}

/**
 * The soft decision for one projection: +1 on bit 1's lattice points, −1 on bit 0's, 0 halfway.
 * Near 0 (a flat picture, where nothing is embedded) it is ≈ 0, so chips that carry nothing abstain
 * instead of voting the same way in every frame for whatever the picture suggests.
 */
export const qimSoft = (p: number): number => Math.sin((2 * Math.PI * p) / QIM_STEP);

/** The lattice point of `bit` nearest to p. */
export function qimTarget(p: number, bit: number): number {
  const off = bit ? QIM_STEP / 4 : -QIM_STEP / 4;
  return off + QIM_STEP * Math.round((p - off) / QIM_STEP);
}

/** Per destination index along one axis: the source indices it averages and their area weights. */
export function areaWeights(src: number, dst: number): { idx: Int32Array; w: Float32Array; start: Int32Array } {
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(dst + 1);
  const f = src / dst;
  for (let d = 0; d < dst; d++) {
    start[d] = idx.length;
    const a = d * f;
    const b = (d + 1) * f;
    for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
      const ov = Math.min(b, s + 1) - Math.max(a, s);
      if (ov > 1e-9) {
        idx.push(s);
        w.push(ov / f);
      }
    }
  }
  start[dst] = idx.length;
  return { idx: Int32Array.from(idx), w: Float32Array.from(w), start };
}

/**
 * Area-average resize of a grey plane to CANONICAL×CANONICAL (box filter with exact overlaps; for
 * upscaling it degenerates to nearest-area). The embedder and the detector both measure chips on
 * this canonical plane, so they agree whatever the frame size.
 */
export function toCanonical(plane: ArrayLike<number>, w: number, h: number): Float32Array {
  if (w === CANONICAL && h === CANONICAL) return Float32Array.from(plane);
  const ax = areaWeights(w, CANONICAL);
  const ay = areaWeights(h, CANONICAL);
  const tmp = new Float32Array(CANONICAL * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let d = 0; d < CANONICAL; d++) {
      let s = 0;
      for (let i = ax.start[d]!; i < ax.start[d + 1]!; i++) s += ax.w[i]! * plane[o + ax.idx[i]!]!;
      tmp[y * CANONICAL + d] = s;
    }
  }
  const out = new Float32Array(CANONICAL * CANONICAL);
  for (let d = 0; d < CANONICAL; d++) {
    for (let i = ay.start[d]!; i < ay.start[d + 1]!; i++) {
      const wy = ay.w[i]!;
      const row = ay.idx[i]! * CANONICAL;
      const o = d * CANONICAL;
      for (let x = 0; x < CANONICAL; x++) out[o + x] = out[o + x]! + wy * tmp[row + x]!;
    }
  }
  return out;
}

const canonicalAxis = axisBump(CANONICAL);

/** Bump-weighted chip means of a plane of any size, measured on its canonical resize. */
export const canonicalChipMeans = (plane: ArrayLike<number>, w: number, h: number): Float64Array => chipMeans(toCanonical(plane, w, h), CANONICAL, CANONICAL, canonicalAxis, canonicalAxis);
