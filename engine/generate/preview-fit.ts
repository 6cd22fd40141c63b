// Live previews in the model's own colours: the latent→RGB map of preview.ts, fitted once per package
// against that package's VAE and stored beside its refree.json as preview.json.
//
// Why a fit: every VAE spreads colour over its latent channels differently (and a retrained VAE
// differently again), so a fixed map shows grey noise. The fit encodes a few synthetic pictures that
// span colours and textures (smooth random colour fields, gradients, stripes/checks/grain, crops of the
// sample avatar) with the package's VAE encoder, decodes each latent with its decoder, averages the
// decoded pixels over each latent cell's s×s block, and solves rgb ≈ W·z + b by ridge least squares
// (fitLatentRgbProjection). Decoding — not the input pictures — is the target, because the preview
// stands in for what the decoder will show.
//
// Where it lives: <package>/preview.json, tagged with the package hash (model.ts packageHash) so a
// changed package is fitted again. A package in a folder we cannot write keeps its fit in the engine's
// cache folder instead (<cache>/previews/<hash>.json). A damaged file is fitted again with a warning.
// Fitting happens at the first generation that shows previews (a second or two for the demo model);
// imports do not fit, because opening a 5B VAE on a CPU would make every import slow.
// This file knows nothing of sessions: the VAE comes in as a FitVae (pipeline/preview-colours.ts
// wires the package's VaeStream to it), so the generate layer stays below the pipeline.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { LatentRgbProjection } from './preview.js';
import { fitLatentRgbProjection, projectLatentFrame, uncalibratedProjection } from './preview.js';

export const PREVIEW_FILE = 'preview.json';
export const PREVIEW_FORMAT = 'refree-preview/1';
/** Pictures fitted per package; each is a 2×2 mosaic of different kinds of content. */
export const FIT_IMAGES = 4;

/** What the fit needs of a VAE. */
export interface FitVae {
  /** Latent channels C and pixels per latent cell side s. */
  channels: number;
  spatial: number;
  /** Each picture [3, 1, size, size] in [-1, 1] encoded as the first frame of a clip: normalised latents [C, 1, size/s, size/s]. */
  encode(images: readonly Float32Array[], size: number): Promise<Float32Array[]>;
  /** A latent [C, 1, size/s, size/s] decoded as the first frame of a fresh clip: pixels [3, 1, size, size]. */
  decodeFirst(latent: Float32Array, size: number): Promise<Float32Array>;
}

/** Where a package's map is kept. */
export interface PreviewStore {
  /** Identity of the package (pipeline/model.ts packageHash); a file of another hash is stale. */
  hash: string;
  /** The package folder, which gets preview.json (null: none, use the cache folder). */
  dir: string | null;
  /** Folder for the maps of packages that cannot be written (<cache>/previews). */
  cacheDir: string;
}

export interface PreviewFitStats {
  /** Latent cells (one sample each) the map was fitted on. */
  samples: number;
  images: number;
  /** Square pixel size the pictures were encoded at. */
  size: number;
  /** RMS error of the fitted map against the decoded, cell-averaged pixels, in [-1, 1] units (R, G, B together). */
  rmse: number;
  rmsePerColour: [number, number, number];
  /** The same for the grey placeholder map (uncalibratedProjection). */
  placeholderRmse: number;
  seconds: number;
}

export interface PreviewFile {
  format: typeof PREVIEW_FORMAT;
  /** packageHash of the package the map was fitted on. */
  package: string;
  channels: number;
  /** C×3 row-major, as LatentRgbProjection.weights. */
  weights: number[];
  bias: number[];
  fitted: PreviewFitStats;
}

export interface PreviewProjection {
  projection: LatentRgbProjection;
  /** Where it came from: read from the package, read from the cache folder, or fitted just now. */
  source: 'package' | 'cache' | 'fitted';
  /** The file it was read from or saved to (null when it could not be saved anywhere). */
  file: string | null;
  fitted: PreviewFitStats;
}

export interface PreviewProjectionOptions {
  onWarning?: (message: string) => void;
  /** Called before a fit starts (the caller may tell the person why the first run takes a moment). */
  onFitStart?: () => void;
  /** An image file whose crops join the fit pictures (the sample avatar). */
  avatar?: string | null;
  signal?: AbortSignal;
}

/** Matching samples: latents [C, P] (channel-major) and the decoded pixels averaged per cell [3, P], in [-1, 1]. */
export interface FitSamples {
  channels: number;
  latents: Float32Array;
  rgb: Float32Array;
  cells: number;
}

/** A small seeded generator (mulberry32): the fit pictures are the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Tile = (x: number, y: number) => [number, number, number];
const colour = (r: () => number): [number, number, number] => [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
const mix = (a: readonly number[], b: readonly number[], t: number): [number, number, number] => [a[0]! + (b[0]! - a[0]!) * t, a[1]! + (b[1]! - a[1]!) * t, a[2]! + (b[2]! - a[2]!) * t];

/** Random colours on a coarse g×g grid, bilinearly interpolated over the tile. */
function smoothField(r: () => number, n: number): Tile {
  const g = 2 + Math.floor(r() * 4);
  const grid = Array.from({ length: g * g }, () => colour(r));
  return (x, y) => {
    const fx = (x / (n - 1)) * (g - 1);
    const fy = (y / (n - 1)) * (g - 1);
    const x0 = Math.min(g - 2, Math.floor(fx));
    const y0 = Math.min(g - 2, Math.floor(fy));
    const top = mix(grid[y0 * g + x0]!, grid[y0 * g + x0 + 1]!, fx - x0);
    const bottom = mix(grid[(y0 + 1) * g + x0]!, grid[(y0 + 1) * g + x0 + 1]!, fx - x0);
    return mix(top, bottom, fy - y0);
  };
}

/** A linear gradient between two random colours at a random angle. */
function gradient(r: () => number, n: number): Tile {
  const a = colour(r);
  const b = colour(r);
  const th = r() * 2 * Math.PI;
  const [c, s] = [Math.cos(th), Math.sin(th)];
  const half = (n / 2) * (Math.abs(c) + Math.abs(s));
  return (x, y) => mix(a, b, Math.min(1, Math.max(0, ((x - n / 2) * c + (y - n / 2) * s) / (2 * half) + 0.5)));
}

/** Detail finer than a latent cell (stripes, checks or grain) between two colours: the cell mean is what the preview must show. */
function texture(r: () => number, n: number): Tile {
  const a = colour(r);
  const b = colour(r);
  const kind = Math.floor(r() * 3);
  const period = 2 + Math.floor(r() * 14);
  const th = r() * Math.PI;
  const noise = rng(Math.floor(r() * 2 ** 31));
  const grain = Float32Array.from({ length: n * n }, () => noise());
  return (x, y) => {
    const t =
      kind === 0
        ? 0.5 + 0.5 * Math.sin((2 * Math.PI * (x * Math.cos(th) + y * Math.sin(th))) / period)
        : kind === 1
          ? (Math.floor(x / period) + Math.floor(y / period)) % 2
          : grain[y * n + x]!;
    return mix(a, b, t);
  };
}

/** A random square crop of the sample avatar on a random background colour, resized to the tile. */
async function avatarCrop(r: () => number, n: number, avatar: string | null): Promise<Tile | null> {
  if (!avatar || !existsSync(avatar)) return null;
  const img = sharp(avatar);
  const meta = await img.metadata();
  const side = Math.min(meta.width ?? 0, meta.height ?? 0);
  if (side < 8) return null;
  const crop = Math.max(8, Math.round(side * (0.3 + 0.7 * r())));
  const left = Math.floor(r() * ((meta.width ?? side) - crop + 1));
  const top = Math.floor(r() * ((meta.height ?? side) - crop + 1));
  const bg = colour(r).map((v) => Math.round((v + 1) * 127.5));
  const raw = await img
    .flatten({ background: { r: bg[0]!, g: bg[1]!, b: bg[2]! } })
    .removeAlpha()
    .extract({ left, top, width: crop, height: crop })
    .resize(n, n, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return (x, y) => {
    const o = (y * n + x) * 3;
    return [raw[o]! / 127.5 - 1, raw[o + 1]! / 127.5 - 1, raw[o + 2]! / 127.5 - 1];
  };
}

/**
 * `count` fit pictures of size×size as [3, 1, size, size] in [-1, 1]: each a 2×2 mosaic of a smooth
 * colour field, a gradient, a fine texture and a crop of `avatar` (an image file; without one, another
 * colour field), in an order that rotates per picture.
 */
export async function fitImages(size: number, count: number, seed = 1, avatar: string | null = null): Promise<Float32Array[]> {
  const r = rng(seed);
  const n = size / 2;
  const out: Float32Array[] = [];
  const P = size * size;
  for (let i = 0; i < count; i++) {
    const tiles: Tile[] = [];
    for (let k = 0; k < 4; k++) {
      const kind = (k + i) % 4;
      tiles.push(kind === 0 ? smoothField(r, n) : kind === 1 ? gradient(r, n) : kind === 2 ? texture(r, n) : ((await avatarCrop(r, n, avatar)) ?? smoothField(r, n)));
    }
    const img = new Float32Array(3 * P);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const rgb = tiles[(y >= n ? 2 : 0) + (x >= n ? 1 : 0)]!(x % n, y % n);
        for (let c = 0; c < 3; c++) img[c * P + y * size + x] = Math.min(1, Math.max(-1, rgb[c]!));
      }
    }
    out.push(img);
  }
  return out;
}

/** Average of each s×s block of frame 0 of [3, n, H, W] pixels, clamped to [-1, 1] as a video shows them: [3, (H/s)·(W/s)]. */
export function poolPixels(pix: Float32Array, n: number, height: number, width: number, s: number): Float32Array {
  const h = height / s;
  const w = width / s;
  const P = h * w;
  const out = new Float32Array(3 * P);
  for (let c = 0; c < 3; c++) {
    const base = c * n * height * width;
    for (let cy = 0; cy < h; cy++) {
      for (let cx = 0; cx < w; cx++) {
        let sum = 0;
        for (let y = cy * s; y < (cy + 1) * s; y++) {
          for (let x = cx * s; x < (cx + 1) * s; x++) sum += Math.min(1, Math.max(-1, pix[base + y * width + x]!));
        }
        out[c * P + cy * w + cx] = sum / (s * s);
      }
    }
  }
  return out;
}

/** Square size the fit encodes at: a 16×16 latent grid (256 px for the 16× VAEs). */
export const fitSize = (vae: Pick<FitVae, 'spatial'>): number => 16 * vae.spatial;

/** Encodes each picture with the VAE and decodes its latent: one sample per latent cell. */
export async function collectSamples(vae: FitVae, images: readonly Float32Array[], size: number, signal?: AbortSignal): Promise<FitSamples> {
  const C = vae.channels;
  const s = vae.spatial;
  const hw = (size / s) ** 2;
  const cells = hw * images.length;
  const latents = new Float32Array(C * cells);
  const rgb = new Float32Array(3 * cells);
  signal?.throwIfAborted();
  const zs = await vae.encode(images, size);
  for (let i = 0; i < zs.length; i++) {
    signal?.throwIfAborted();
    const z = zs[i]!;
    if (z.length !== C * hw) throw new RangeError(`the VAE gave ${z.length} latent values for a ${size}×${size} picture; expected ${C}×${hw}`);
    const pooled = poolPixels(await vae.decodeFirst(z, size), 1, size, size, s);
    for (let c = 0; c < C; c++) latents.set(z.subarray(c * hw, (c + 1) * hw), c * cells + i * hw);
    for (let k = 0; k < 3; k++) rgb.set(pooled.subarray(k * hw, (k + 1) * hw), k * cells + i * hw);
  }
  return { channels: C, latents, rgb, cells };
}

/** RMS error (R, G, B together, predictions clamped to [-1, 1] as the preview shows them) of a map on samples. */
export function projectionRmse(p: LatentRgbProjection, s: FitSamples): number {
  const pred = projectLatentFrame(s.latents, [s.channels, 1, 1, s.cells], 0, p);
  let sq = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = Math.min(1, Math.max(-1, pred[i]!)) - s.rgb[i]!;
    sq += d * d;
  }
  return Math.sqrt(sq / pred.length);
}

export interface FitOptions {
  images?: number;
  size?: number;
  seed?: number;
  /** An image file whose crops join the fit pictures (the sample avatar). */
  avatar?: string | null;
  signal?: AbortSignal;
}

/** Fits the preview map against a VAE (no files read or written). */
export async function fitPreviewProjection(vae: FitVae, opts: FitOptions = {}): Promise<{ projection: LatentRgbProjection; fitted: PreviewFitStats }> {
  const t0 = performance.now();
  const size = opts.size ?? fitSize(vae);
  const count = opts.images ?? FIT_IMAGES;
  const samples = await collectSamples(vae, await fitImages(size, count, opts.seed ?? 1, opts.avatar ?? null), size, opts.signal);
  const fit = fitLatentRgbProjection(samples.latents, samples.rgb, vae.channels);
  const round = (v: number): number => +v.toFixed(5);
  return {
    projection: fit.projection,
    fitted: {
      samples: samples.cells,
      images: count,
      size,
      rmse: round(projectionRmse(fit.projection, samples)),
      rmsePerColour: fit.rmse.map(round) as [number, number, number],
      placeholderRmse: round(projectionRmse(uncalibratedProjection(vae.channels), samples)),
      seconds: +((performance.now() - t0) / 1000).toFixed(3),
    },
  };
}

/** The cache-folder file for a package that cannot hold its own preview.json. */
export const cachedPreviewFile = (store: PreviewStore): string => path.join(store.cacheDir, `${store.hash}.json`);

const finiteNumbers = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Reads a preview file: the map, 'stale' (another package or channel count), 'missing', or a sentence saying what is damaged. */
export async function readPreviewFile(file: string, hash: string, channels: number): Promise<PreviewProjection | 'stale' | 'missing' | { damaged: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return { damaged: `cannot be read (${(e as Error).message})` };
  }
  let j: Partial<PreviewFile>;
  try {
    j = JSON.parse(text) as Partial<PreviewFile>;
  } catch (e) {
    return { damaged: `is not valid JSON (${(e as Error).message})` };
  }
  if (typeof j !== 'object' || j === null || j.format !== PREVIEW_FORMAT) return { damaged: `does not say "format": "${PREVIEW_FORMAT}"` };
  if (j.package !== hash || j.channels !== channels) return 'stale';
  if (!finiteNumbers(j.weights, channels * 3)) return { damaged: `"weights" must be ${channels * 3} finite numbers` };
  if (!finiteNumbers(j.bias, 3)) return { damaged: '"bias" must be 3 finite numbers' };
  if (typeof j.fitted !== 'object' || j.fitted === null) return { damaged: '"fitted" is missing' };
  return { projection: { channels, weights: Float32Array.from(j.weights), bias: Float32Array.from(j.bias) }, source: 'package', file, fitted: j.fitted };
}


/**
 * The live-preview map of a package: its preview.json, else the cache folder's copy, else fitted now
 * against `vae` and saved (in the package, or in the cache folder when the package cannot be written).
 */
export async function previewProjection(store: PreviewStore, vae: FitVae, opts: PreviewProjectionOptions = {}): Promise<PreviewProjection> {
  const warn = opts.onWarning ?? (() => {});
  const pkgFile = store.dir ? path.join(store.dir, PREVIEW_FILE) : null;
  const cacheFile = cachedPreviewFile(store);
  for (const [file, source] of [
    [pkgFile, 'package'],
    [cacheFile, 'cache'],
  ] as const) {
    if (!file) continue;
    const r = await readPreviewFile(file, store.hash, vae.channels);
    if (typeof r === 'object' && 'damaged' in r) warn(`the live-preview colours in ${file} ${r.damaged}; fitting them again`);
    else if (typeof r === 'object') return { ...r, source };
  }
  opts.onFitStart?.();
  const fit = await fitPreviewProjection(vae, { signal: opts.signal, avatar: opts.avatar ?? null });
  const body: PreviewFile = { format: PREVIEW_FORMAT, package: store.hash, channels: vae.channels, weights: [...fit.projection.weights], bias: [...fit.projection.bias], fitted: fit.fitted };
  const text = `${JSON.stringify(body, null, 1)}\n`;
  let pkgError: string | null = null;
  if (pkgFile) {
    try {
      await writeFileAtomic(pkgFile, text);
      return { ...fit, source: 'fitted', file: pkgFile };
    } catch (e) {
      pkgError = (e as Error).message;
    }
  }
  try {
    await mkdir(path.dirname(cacheFile), { recursive: true });
    await writeFileAtomic(cacheFile, text);
    return { ...fit, source: 'fitted', file: cacheFile };
  } catch (e) {
    warn(`the live-preview colours could not be saved (${pkgError ? `${pkgFile}: ${pkgError}; ` : ''}${cacheFile}: ${(e as Error).message}); they will be fitted again next time`);
    return { ...fit, source: 'fitted', file: null };
  }
}
