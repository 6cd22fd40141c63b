// Frame comparison and motion on 8-bit luma planes.
//   - PSNR: 10·log10(255² / MSE), capped at PSNR_CAP dB (identical frames would be +∞, which JSON
//     cannot hold; 100 dB is far above any lossy copy, which sits below 60).
//   - SSIM: Wang et al. 2004 on luma with an 11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03,
//     L = 255, averaged over the positions where the window fits inside the frame (the reference
//     implementation's "valid" region), no downsampling.
//   - motion in the spirit of VBench's Dynamic Degree: VBench measures RAFT optical flow between frames
//     about 1/8 s apart and calls a pair moving when the mean of its top 5 % flow magnitudes exceeds
//     6 px × (short side / 256). We use exhaustive 8×8 block matching (±8 px search) over the face
//     region instead of RAFT, the same spacing, top-5 % statistic and threshold.

export const PSNR_CAP = 100;

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`psnr: frames differ in size (${a.length} vs ${b.length} values)`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  if (s === 0) return PSNR_CAP;
  return Math.min(PSNR_CAP, 10 * Math.log10((255 * 255 * a.length) / s));
}

const GAUSS = (() => {
  const k = new Float64Array(11);
  let s = 0;
  for (let i = 0; i < 11; i++) s += k[i] = Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5));
  for (let i = 0; i < 11; i++) k[i] = k[i]! / s;
  return k;
})();

/** Separable 11-tap Gaussian filter, "valid" output ((w−10) × (h−10)). */
function blur(x: Float64Array, w: number, h: number): Float64Array {
  const ow = w - 10;
  const oh = h - 10;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x0 = 0; x0 < ow; x0++) {
      let s = 0;
      const o = y * w + x0;
      for (let k = 0; k < 11; k++) s += GAUSS[k]! * x[o + k]!;
      tmp[y * ow + x0] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x0 = 0; x0 < ow; x0++) {
      let s = 0;
      for (let k = 0; k < 11; k++) s += GAUSS[k]! * tmp[(y + k) * ow + x0]!;
      out[y * ow + x0] = s;
    }
  }
  return out;
}

export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  if (a.length !== width * height || b.length !== width * height) throw new RangeError(`ssim: expected two ${width}×${height} luma planes`);
  if (width < 11 || height < 11) throw new RangeError(`ssim: frames of ${width}×${height} are smaller than the 11×11 window`);
  const n = width * height;
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  const AA = new Float64Array(n);
  const BB = new Float64Array(n);
  const AB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    A[i] = a[i]!;
    B[i] = b[i]!;
    AA[i] = a[i]! * a[i]!;
    BB[i] = b[i]! * b[i]!;
    AB[i] = a[i]! * b[i]!;
  }
  const [ma, mb, saa, sbb, sab] = [A, B, AA, BB, AB].map((x) => blur(x, width, height)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let s = 0;
  for (let i = 0; i < ma.length; i++) {
    const mx = ma[i]!;
    const my = mb[i]!;
    const vx = saa[i]! - mx * mx;
    const vy = sbb[i]! - my * my;
    const cxy = sab[i]! - mx * my;
    s += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
  }
  return s / ma.length;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PairMotion {
  /** Mean |ΔY| over the region, luma levels. */
  meanAbsDiff: number;
  /** Mean block displacement over textured blocks, pixels of the frame. */
  meanFlow: number;
  /** Mean of the largest 5 % block displacements (VBench's per-pair statistic), pixels. */
  top5Flow: number;
}

const BLOCK = 8;
const SEARCH = 8;

/**
 * Motion between two luma frames inside `region` (clipped to the frame). Blocks with too little
 * texture to match (luma std < 3) are left out of the flow statistics; a displacement is taken only
 * when it beats standing still by more than 2 % of the block's SAD, so flat or noisy blocks read 0.
 */
export function pairMotion(prev: Uint8Array, next: Uint8Array, width: number, height: number, region: Box): PairMotion {
  const x0 = Math.max(0, Math.floor(region.x));
  const y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(width, Math.ceil(region.x + region.width));
  const y1 = Math.min(height, Math.ceil(region.y + region.height));
  let diff = 0;
  let count = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      diff += Math.abs(prev[y * width + x]! - next[y * width + x]!);
      count++;
    }
  }
  const mags: number[] = [];
  for (let by = y0; by + BLOCK <= y1; by += BLOCK) {
    for (let bx = x0; bx + BLOCK <= x1; bx += BLOCK) {
      let s = 0;
      let s2 = 0;
      for (let y = 0; y < BLOCK; y++) {
        for (let x = 0; x < BLOCK; x++) {
          const v = prev[(by + y) * width + bx + x]!;
          s += v;
          s2 += v * v;
        }
      }
      const m = s / (BLOCK * BLOCK);
      if (s2 / (BLOCK * BLOCK) - m * m < 9) continue;
      const sad = (dx: number, dy: number, limit: number): number => {
        let t = 0;
        for (let y = 0; y < BLOCK; y++) {
          const ro = (by + y) * width + bx;
          const so = (by + y + dy) * width + bx + dx;
          for (let x = 0; x < BLOCK; x++) t += Math.abs(prev[ro + x]! - next[so + x]!);
          if (t >= limit) return t;
        }
        return t;
      };
      const still = sad(0, 0, Infinity);
      let best = still * 0.98;
      let bdx = 0;
      let bdy = 0;
      for (let dy = -SEARCH; dy <= SEARCH; dy++) {
        if (by + dy < 0 || by + dy + BLOCK > height) continue;
        for (let dx = -SEARCH; dx <= SEARCH; dx++) {
          if ((dx === 0 && dy === 0) || bx + dx < 0 || bx + dx + BLOCK > width) continue;
          const t = sad(dx, dy, best);
          if (t < best || (t === best && Math.hypot(dx, dy) < Math.hypot(bdx, bdy))) {
            best = t;
            bdx = dx;
            bdy = dy;
          }
        }
      }
      mags.push(Math.hypot(bdx, bdy));
    }
  }
  mags.sort((a, b) => b - a);
  const top = mags.slice(0, Math.max(1, Math.ceil(mags.length * 0.05)));
  return {
    meanAbsDiff: count ? diff / count : 0,
    meanFlow: mags.length ? mags.reduce((a, b) => a + b, 0) / mags.length : 0,
    top5Flow: mags.length ? top.reduce((a, b) => a + b, 0) / top.length : 0,
  };
}

/** VBench's pair spacing: about 8 compared frames per second. */
export const motionInterval = (fps: number): number => Math.max(1, Math.round(fps / 8));
/** VBench's "moving" threshold for a frame of this size, pixels. */
export const motionThreshold = (width: number, height: number): number => (6 * Math.min(width, height)) / 256;

/** Downscales a luma plane by a whole factor (box average). */
export function downscaleLuma(y: Uint8Array, width: number, height: number, factor: number): { data: Uint8Array; width: number; height: number } {
  if (factor <= 1) return { data: y, width, height };
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      let s = 0;
      for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) s += y[(j * factor + dy) * width + i * factor + dx]!;
      out[j * w + i] = Math.round(s / (factor * factor));
    }
  }
  return { data: out, width: w, height: h };
}

/** Luma (BT.601) of interleaved RGB. */
export function rgbToLuma(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!);
  return out;
}
