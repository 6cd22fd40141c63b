// Cheap live previews: a fixed linear map from the latent channels to RGB at each latent pixel,
// rgb = bias + Σ_c z_c·W[c], upsampled by nearest neighbour. One latent pixel covers 16×16 pixels
// (and 4 frames) of the real video, so this shows composition and colour, not detail — enough to
// watch a generation converge, at ~C·3 multiply-adds per latent pixel instead of a VAE decode.
//
// The coefficients must be FITTED against the real VAE decoder of the model in use: decode a few
// latents, average-pool the frames to the latent grid (poolRgbToLatentGrid), and solve the least
// squares problem with fitLatentRgbProjection. They belong in the model package next to the VAE:
// preview-fit.ts does this once per package and keeps the result in its preview.json.
// `uncalibratedProjection` is only a placeholder for when no fitted map is available: it shows the
// mean of the channels as grey, so structure is visible but brightness and colour are not meaningful.
// Values are in the VAE's pixel range [-1, 1] and mapped to bytes with round((v + 1)·127.5).
import type { LatentShape } from './types.js';

export interface LatentRgbProjection {
  /** Number of latent channels C. */
  channels: number;
  /** C×3, row-major: weights[c·3 + k] is channel c's contribution to colour k (R, G, B). */
  weights: Float32Array;
  /** 3 values. */
  bias: Float32Array;
}

export interface PreviewImage {
  width: number;
  height: number;
  /** width·height·3 bytes, interleaved RGB, rows top to bottom. */
  rgb: Uint8Array;
}

/** Placeholder projection (see the header): grey = 0.5·mean over channels. */
export function uncalibratedProjection(channels: number): LatentRgbProjection {
  const weights = new Float32Array(channels * 3).fill(0.5 / channels);
  return { channels, weights, bias: new Float32Array(3) };
}

function checkProjection(p: LatentRgbProjection, channels: number, who: string): void {
  if (p.channels !== channels || p.weights.length !== channels * 3 || p.bias.length !== 3) {
    throw new RangeError(`${who}: projection is for ${p.channels} channels (${p.weights.length} weights, ${p.bias.length} biases) but the latent has ${channels} channels; expected ${channels * 3} weights and 3 biases`);
  }
}

/**
 * Projects latent frame `frame` of `latent` ([C, F, H, W]) to RGB at latent resolution:
 * a Float32Array [3, H, W] in the VAE's pixel range (not clamped).
 */
export function projectLatentFrame(latent: Float32Array, shape: LatentShape, frame: number, projection: LatentRgbProjection): Float32Array {
  const [C, F, H, W] = shape;
  if (latent.length !== C * F * H * W) throw new RangeError(`projectLatentFrame: latent has ${latent.length} values, shape [${shape.join(', ')}] needs ${C * F * H * W}`);
  if (!Number.isInteger(frame) || frame < 0 || frame >= F) throw new RangeError(`projectLatentFrame: frame ${frame} is outside 0..${F - 1}`);
  checkProjection(projection, C, 'projectLatentFrame');
  const P = H * W;
  const out = new Float32Array(3 * P);
  const acc = new Float64Array(3 * P);
  for (let k = 0; k < 3; k++) acc.fill(projection.bias[k]!, k * P, (k + 1) * P);
  const { weights } = projection;
  for (let c = 0; c < C; c++) {
    const base = (c * F + frame) * P;
    const wr = weights[c * 3]!;
    const wg = weights[c * 3 + 1]!;
    const wb = weights[c * 3 + 2]!;
    for (let p = 0; p < P; p++) {
      const zc = latent[base + p]!;
      acc[p] = acc[p]! + wr * zc;
      acc[P + p] = acc[P + p]! + wg * zc;
      acc[2 * P + p] = acc[2 * P + p]! + wb * zc;
    }
  }
  out.set(acc);
  return out;
}

export interface PreviewOptions {
  /** Latent frame to show; default the middle one. */
  frame?: number;
  /** Nearest-neighbour upsampling factor per latent pixel (default 16: the VAE's spatial stride). */
  scale?: number;
  projection: LatentRgbProjection;
}

/** A latent frame as an RGB8 image of (W·scale)×(H·scale). */
export function latentPreview(latent: Float32Array, shape: LatentShape, opts: PreviewOptions): PreviewImage {
  const [, F, H, W] = shape;
  const frame = opts.frame ?? Math.floor(F / 2);
  const scale = opts.scale ?? 16;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`latentPreview: scale must be an integer ≥ 1 (got ${scale})`);
  const rgbSmall = projectLatentFrame(latent, shape, frame, opts.projection);
  const P = H * W;
  const width = W * scale;
  const height = H * scale;
  const rgb = new Uint8Array(width * height * 3);
  const toByte = (v: number): number => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
  // One RGB row of the latent grid, repeated `scale` times vertically.
  const row = new Uint8Array(width * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const r = toByte(rgbSmall[p]!);
      const g = toByte(rgbSmall[P + p]!);
      const b = toByte(rgbSmall[2 * P + p]!);
      for (let s = 0; s < scale; s++) {
        const o = (x * scale + s) * 3;
        row[o] = r;
        row[o + 1] = g;
        row[o + 2] = b;
      }
    }
    for (let s = 0; s < scale; s++) rgb.set(row, (y * scale + s) * width * 3);
  }
  return { width, height, rgb };
}

/**
 * Average-pools an RGB8 image (interleaved, width×height) by `factor` to [3, height/factor·width/factor]
 * in [-1, 1]: the target of fitLatentRgbProjection for a frame decoded by the VAE.
 */
export function poolRgbToLatentGrid(rgb: Uint8Array, width: number, height: number, factor = 16): Float32Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`poolRgbToLatentGrid: ${rgb.length} bytes is not ${width}×${height}×3`);
  if (width % factor !== 0 || height % factor !== 0) throw new RangeError(`poolRgbToLatentGrid: ${width}×${height} is not a multiple of ${factor}`);
  const w = width / factor;
  const h = height / factor;
  const P = w * h;
  const sums = new Float64Array(3 * P);
  for (let y = 0; y < height; y++) {
    const py = Math.floor(y / factor) * w;
    for (let x = 0; x < width; x++) {
      const p = py + Math.floor(x / factor);
      const o = (y * width + x) * 3;
      sums[p] = sums[p]! + rgb[o]!;
      sums[P + p] = sums[P + p]! + rgb[o + 1]!;
      sums[2 * P + p] = sums[2 * P + p]! + rgb[o + 2]!;
    }
  }
  const n = factor * factor;
  return Float32Array.from(sums, (s) => s / n / 127.5 - 1);
}

export interface FitResult {
  projection: LatentRgbProjection;
  /** Root mean square residual per colour, in [-1, 1] units. */
  rmse: [number, number, number];
}

/**
 * Least-squares fit of rgb ≈ bias + Wᵀ·z over matching samples.
 * `latents`: [C, P] channel-major (a [C, F, H, W] latent is already this with P = F·H·W);
 * `rgbDownsampled`: [3, P] at the same positions, in [-1, 1] (see poolRgbToLatentGrid).
 * Solves the (C+1)×(C+1) normal equations in float64 with a small ridge term (default 1e-6·trace/(C+1))
 * so constant or duplicate channels do not make it singular.
 */
export function fitLatentRgbProjection(latents: Float32Array, rgbDownsampled: Float32Array, channels: number, opts: { ridge?: number } = {}): FitResult {
  const C = channels;
  if (!Number.isInteger(C) || C < 1 || latents.length % C !== 0) throw new RangeError(`fitLatentRgbProjection: ${latents.length} latent values are not a multiple of ${C} channels`);
  const P = latents.length / C;
  if (rgbDownsampled.length !== 3 * P) throw new RangeError(`fitLatentRgbProjection: rgb has ${rgbDownsampled.length} values, expected 3·${P} for ${P} latent positions`);
  if (P < C + 1) throw new RangeError(`fitLatentRgbProjection: ${P} samples cannot determine ${C + 1} coefficients per colour`);
  const D = C + 1; // features z_0..z_{C−1}, 1
  const A = new Float64Array(D * D); // Σ f fᵀ
  const B = new Float64Array(D * 3); // Σ f rgbᵀ
  const f = new Float64Array(D);
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < C; c++) f[c] = latents[c * P + p]!;
    f[C] = 1;
    for (let i = 0; i < D; i++) {
      const fi = f[i]!;
      if (fi === 0) continue;
      for (let j = i; j < D; j++) A[i * D + j] = A[i * D + j]! + fi * f[j]!;
      for (let k = 0; k < 3; k++) B[i * 3 + k] = B[i * 3 + k]! + fi * rgbDownsampled[k * P + p]!;
    }
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) A[i * D + j] = A[j * D + i]!;
  let trace = 0;
  for (let i = 0; i < D; i++) trace += A[i * D + i]!;
  const ridge = opts.ridge ?? (1e-6 * trace) / D;
  for (let i = 0; i < C; i++) A[i * D + i] = A[i * D + i]! + ridge; // the bias is not penalised

  const X = choleskySolve(A, B, D, 3);
  const weights = new Float32Array(C * 3);
  for (let c = 0; c < C; c++) for (let k = 0; k < 3; k++) weights[c * 3 + k] = X[c * 3 + k]!;
  const bias = Float32Array.from([X[C * 3]!, X[C * 3 + 1]!, X[C * 3 + 2]!]);

  const sq = [0, 0, 0];
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < 3; k++) {
      let pred = X[C * 3 + k]!;
      for (let c = 0; c < C; c++) pred += X[c * 3 + k]! * latents[c * P + p]!;
      const r = pred - rgbDownsampled[k * P + p]!;
      sq[k]! += r * r;
    }
  }
  return { projection: { channels: C, weights, bias }, rmse: [Math.sqrt(sq[0]! / P), Math.sqrt(sq[1]! / P), Math.sqrt(sq[2]! / P)] };
}

/** Solves A·X = B for symmetric positive definite A (n×n) and B (n×m), row-major, in float64. */
function choleskySolve(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError('fitLatentRgbProjection: the latent samples are degenerate (normal matrix not positive definite); use more varied latents or a larger ridge');
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j]!;
      }
    }
  }
  const X = new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = B[i * m + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
      y[i] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * X[k * m + c]!;
      X[i * m + c] = s / L[i * n + i]!;
    }
  }
  return X;
}
