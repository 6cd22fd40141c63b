// Lip and face masks: rasterised per video frame at the training size (landmark polygons here; the
// synthetic truth's ellipses with engine/synth/masks.ts), then brought to the latent grid
// the loss is weighted on. A latent cell covers spatial × spatial pixels of `stride` video frames (latent
// frame 0 is video frame 0 alone; latent frame i ≥ 1 is video frames 4i−3 … 4i for Wan2.2's stride 4):
// its value is the area average over its pixels (a cell half covered by the lips weighs half), and the
// maximum over its video frames (a mouth that opens during any of them counts).
export interface Point {
  x: number;
  y: number;
}

/** Coverage (0/1 at pixel centres) of a closed polygon in a size × size grid, even-odd rule. */
export function rasterizePolygon(points: readonly Point[], size: number, out = new Float32Array(size * size)): Float32Array {
  const n = points.length;
  if (n < 3) return out;
  const xs: number[] = [];
  for (let y = 0; y < size; y++) {
    const py = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const a = points[i]!;
      const b = points[j]!;
      if (a.y > py !== b.y > py) xs.push(a.x + ((py - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixels whose centre x + 0.5 lies in [xs[k], xs[k+1]).
      const x0 = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const x1 = Math.min(size - 1, Math.ceil(xs[k + 1]! - 0.5) - 1);
      for (let x = x0; x <= x1; x++) out[y * size + x] = 1;
    }
  }
  return out;
}

/** Accumulates per-frame pixel masks into a [F, h, w] latent-grid mask. */
export class LatentMask {
  readonly data: Float32Array;
  readonly h: number;
  readonly w: number;

  constructor(
    readonly size: number,
    readonly spatial: number,
    readonly stride: number,
    readonly latentFrames: number,
  ) {
    this.h = size / spatial;
    this.w = size / spatial;
    this.data = new Float32Array(latentFrames * this.h * this.w);
  }

  /** The latent frame a video frame belongs to. */
  latentFrameOf(frame: number): number {
    return frame === 0 ? 0 : Math.ceil(frame / this.stride);
  }

  /** Adds video frame `frame`'s size × size mask (values 0..1). */
  add(frame: number, mask: Float32Array): void {
    const lf = this.latentFrameOf(frame);
    if (lf >= this.latentFrames) return;
    const { spatial: s, size, h, w } = this;
    const base = lf * h * w;
    const inv = 1 / (s * s);
    for (let cy = 0; cy < h; cy++) {
      for (let cx = 0; cx < w; cx++) {
        let sum = 0;
        for (let y = cy * s; y < (cy + 1) * s; y++) {
          const row = y * size;
          for (let x = cx * s; x < (cx + 1) * s; x++) sum += mask[row + x]!;
        }
        const i = base + cy * w + cx;
        const v = sum * inv;
        if (v > this.data[i]!) this.data[i] = v;
      }
    }
  }
}

export function mean(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : 0;
}
