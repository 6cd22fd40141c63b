// What a finished VAE run leaves behind:
// - per-channel latent statistics measured on the training clips, FOLDED into the weights: the
//   encoder's last 1³ conv (`conv1`, whose first z channels are mu) is rescaled to output
//   (mu − mean)/std, and the decoder's first 1³ conv (`conv2`) absorbs z·std + mean. The package then
//   uses the identity statistics (latent-stats.ts gives mean 0 / std 1 for z ≠ 48), so encode/decode
//   are normalised without any new field in the package format;
// - the reconstruction quality on clips: PSNR over the whole frame and inside the (grown) lip ellipse.
import type { ParamLayout } from '../../graph/params.js';
import type { VaeConfig } from '../../model/config.js';
import { decodeChunkGraph } from '../../model/vae/decoder.js';
import { encodeChunkGraph } from '../../model/vae/encoder.js';
import type { LatentStats } from '../../model/vae/latent-stats.js';
import { MapWeightProvider } from '../../model/weight-provider.js';
import type { WeightEntry } from '../../model/weight-provider.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { VaeClip } from './data.js';
import { LIP_GROW, pixelsOf } from './data.js';
import { growEllipse, rasterizeEllipse } from '../../synth/masks.js';

export function weightMap(layout: ParamLayout, params: Float32Array): Map<string, WeightEntry> {
  const m = new Map<string, WeightEntry>();
  for (const e of layout.entries) m.set(e.name, { dtype: 'float32', shape: e.shape, data: { kind: 'inline', data: Float32Array.from(layout.view(params, e.name)) } });
  return m;
}

/** A VAE's encoder and decoder over whole clips of `frames` pixel frames (first-chunk graphs). */
export class VaeCodec {
  private constructor(
    readonly enc: CompiledGraph,
    readonly dec: CompiledGraph,
  ) {}
  static async open(cfg: VaeConfig, weights: Map<string, WeightEntry>, frames: number, size: number, latentFrames: number): Promise<VaeCodec> {
    const p = new MapWeightProvider(weights);
    const e = encodeChunkGraph(cfg, p, { first: true, frames, height: size, width: size });
    const d = decodeChunkGraph(cfg, p, { first: true, frames: latentFrames, height: size, width: size });
    const enc = await CompiledGraph.fromGraph(e.graph, { outputs: [e.output] });
    const dec = await CompiledGraph.fromGraph(d.graph, { outputs: [d.output] });
    return new VaeCodec(enc, dec);
  }
  async encode(pixels: Float32Array): Promise<Float32Array> {
    return (await this.enc.run({ pixels })).latent as Float32Array;
  }
  async decode(latent: Float32Array): Promise<Float32Array> {
    return (await this.dec.run({ latent })).pixels as Float32Array;
  }
  async release(): Promise<void> {
    await this.enc.release();
    await this.dec.release();
  }
}

/** Evenly spread windows: up to `perClip` per clip. */
export function evalWindows(clips: readonly VaeClip[], frames: number, perClip: number): { clip: VaeClip; start: number }[] {
  const out: { clip: VaeClip; start: number }[] = [];
  for (const clip of clips) {
    const room = clip.frames.length - frames;
    const n = Math.min(perClip, Math.floor(clip.frames.length / frames));
    for (let i = 0; i < n; i++) out.push({ clip, start: n === 1 ? 0 : Math.round((i * room) / (n - 1)) });
  }
  return out;
}

/** Per-channel mean and std of the (un-normalised) latents of `windows`. */
export async function measureLatentStats(codec: VaeCodec, windows: readonly { clip: VaeClip; start: number }[], frames: number, size: number, zDim: number): Promise<LatentStats> {
  const sum = new Float64Array(zDim);
  const sq = new Float64Array(zDim);
  let count = 0;
  for (const w of windows) {
    const z = await codec.encode(pixelsOf([w], frames, size));
    const per = z.length / zDim;
    for (let c = 0; c < zDim; c++) {
      for (let i = 0; i < per; i++) {
        const v = z[c * per + i]!;
        sum[c]! += v;
        sq[c]! += v * v;
      }
    }
    count += per;
  }
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(s / count - mean[c]! ** 2, 1e-8)));
  return { mean: mean.map((v) => +v.toPrecision(6)), std: std.map((v) => +Math.max(v, 1e-3).toPrecision(6)) };
}

/** Copies `params` with the statistics folded into conv1 (encoder output) and conv2 (decoder input). */
export function foldLatentStats(cfg: VaeConfig, layout: ParamLayout, params: Float32Array, stats: LatentStats): Float32Array {
  const out = Float32Array.from(params);
  const z = cfg.zDim;
  // conv1: [2z, 2z, 1, 1, 1] + [2z]; rows 0..z−1 give mu. mu' = (mu − mean)/std.
  const w1 = layout.view(out, 'conv1.weight');
  const b1 = layout.view(out, 'conv1.bias');
  for (let o = 0; o < z; o++) {
    const inv = 1 / stats.std[o]!;
    for (let i = 0; i < 2 * z; i++) w1[o * 2 * z + i]! *= inv;
    b1[o] = (b1[o]! - stats.mean[o]!) * inv;
  }
  // conv2: [z, z, 1, 1, 1] + [z] applied to z·std + mean: W'[o,c] = W[o,c]·std_c, b' = b + Σ_c W[o,c]·mean_c.
  const w2 = layout.view(out, 'conv2.weight');
  const b2 = layout.view(out, 'conv2.bias');
  for (let o = 0; o < z; o++) {
    let shift = 0;
    for (let c = 0; c < z; c++) {
      shift += w2[o * z + c]! * stats.mean[c]!;
      w2[o * z + c]! *= stats.std[c]!;
    }
    b2[o]! += shift;
  }
  return out;
}

export interface ReconQuality {
  /** PSNR in dB over every pixel (pixel range [0, 1]). */
  psnr: number;
  /** PSNR inside the grown lip ellipse. */
  mouthPsnr: number;
  /** Clip windows measured. */
  windows: number;
}

const psnrOf = (mse: number): number => +(10 * Math.log10(1 / Math.max(mse, 1e-12))).toFixed(2);

/** Reconstruction PSNR of `windows` (whole frame and mouth region), in [0, 1] pixel units. */
export async function reconQuality(codec: VaeCodec, windows: readonly { clip: VaeClip; start: number }[], frames: number, size: number): Promise<ReconQuality> {
  let se = 0;
  let n = 0;
  let mse = 0;
  let mn = 0;
  const plane = size * size;
  for (const w of windows) {
    const x = pixelsOf([w], frames, size);
    const y = await codec.decode(await codec.encode(x));
    for (let t = 0; t < frames; t++) {
      const lip = rasterizeEllipse(growEllipse(w.clip.lips[w.start + t]!, LIP_GROW), size);
      for (let c = 0; c < 3; c++) {
        const base = (c * frames + t) * plane;
        for (let i = 0; i < plane; i++) {
          const d = (y[base + i]! - x[base + i]!) / 2;
          se += d * d;
          n++;
          if (lip[i]! > 0.5) {
            mse += d * d;
            mn++;
          }
        }
      }
    }
  }
  return { psnr: psnrOf(se / Math.max(n, 1)), mouthPsnr: psnrOf(mse / Math.max(mn, 1)), windows: windows.length };
}
