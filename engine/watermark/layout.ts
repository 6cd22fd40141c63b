// Where the invisible watermark lives: a resolution-independent grid of GRID×GRID "chips" stretched
// over the whole frame. Each chip is a smooth bump (sin·sin, zero at its edges, so neighbouring chips
// join without seams) whose sign is ±1 times the coded bit it carries. Low spatial frequency and a
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
export function chipMeans(luma: Float32Array | Uint8Array, width: number, height: number, cols = axisBump(width), rows = axisBump(height)): Float64Array {
  const sum = new Float64Array(CHIPS);
  const wsum = new Float64Array(CHIPS);
  for (let y = 0; y < height; y++) {
    const by = rows.bump[y]!;
    const base = rows.chip[y]! * GRID;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const w = by * cols.bump[x]!;
      const j = base + cols.chip[x]!;
      sum[j] += w * luma[o + x]!;
      wsum[j] += w;
    }
  }
  for (let j = 0; j < CHIPS; j++) sum[j] = wsum[j]! > 0 ? sum[j]! / wsum[j]! : 0;
  return sum;
}
