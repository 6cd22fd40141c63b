// Training batches from a prepared dataset (engine/train/prepare): windows of latent frames with their
// speech, the flow-matching noise and targets, and the regional loss weights. Everything drawn at random
// depends only on (seed, step, micro-batch), see regions.ts.
//
// A window is `frames` latent frames starting at latent frame k of a clip. Its first latent frame is
// given to the model clean with timestep 0, as generation does (frame 0 of a clip is the portrait's
// own latent; a later start is a motion frame of the previous chunk); its speech rows are the video
// frames 4k .. 4k + 4(frames−1), the rows generation feeds for a chunk starting at k. An anchored window
// (SftSettings.anchorShare) is the same window with frame 0 replaced by the clip's frame 0 (the portrait)
// and frame 1 clean too, as generation feeds a later chunk of a package that samples with the anchor.
import type { Feeds } from '../runtime/session.js';
import { gaussianNoise } from '../generate/noise.js';
import type { PreparedClip } from './prepare/index.js';
import { loadPreparedClip, readDataset } from './prepare/index.js';
import type { DatasetManifest } from './prepare/index.js';
import type { RegionWeights } from './regions.js';
import { latentLossWeights, noiseStream, shiftedSigma, stepRandom } from './regions.js';

export class TrainDataError extends Error {
  override name = 'TrainDataError';
}

export interface TrainData {
  manifest: DatasetManifest;
  clips: PreparedClip[];
  /** [C, h, w] of every clip's latents (the dataset was prepared at one size). */
  channels: number;
  h: number;
  w: number;
  stride: number;
  speechDim: number;
  /** Per clip, the factor on its regional weights above `rest` (SftSettings.faceBalance); absent: 1. */
  faceBoost?: Float32Array;
}

/** Loads every accepted clip of a prepared dataset for a package whose preparation key is `packageHash`. */
export async function loadTrainData(datasetDir: string, packageHash: string): Promise<TrainData> {
  const manifest = await readDataset(datasetDir);
  if (manifest.model.hash !== packageHash) {
    throw new TrainDataError(`the dataset in ${datasetDir} was prepared for the model "${manifest.model.name}" (${manifest.model.hash.slice(0, 12)}), whose VAE or speech front-end differs from this one's (${packageHash.slice(0, 12)}): prepare the clips again with --model set to the model you train`);
  }
  const accepted = manifest.clips.filter((c) => c.status === 'accepted');
  if (accepted.length === 0) {
    const why = manifest.clips.map((c) => `${c.id}: ${c.reason ?? 'refused'}`).slice(0, 5).join('; ');
    throw new TrainDataError(`the dataset in ${datasetDir} has no usable clip${manifest.clips.length ? ` (${why})` : ''}: add clips with a visible face and speech and prepare again`);
  }
  const clips: PreparedClip[] = [];
  for (const c of accepted) clips.push(await loadPreparedClip(datasetDir, c.id, packageHash));
  const [C, , h, w] = clips[0]!.latentShape;
  return { manifest, clips, channels: C, h, w, stride: manifest.latent.stride, speechDim: clips[0]!.speechDim };
}

/** The longest window every clip can give. */
export function maxWindowFrames(d: TrainData): number {
  return Math.min(...d.clips.map((c) => c.latentShape[1]));
}

export interface WindowRef {
  clip: number;
  /** First latent frame. */
  start: number;
}

/** Copies latent frames [start, start + F) of a [C, Fc, h, w] clip into out [C, F, h, w]. */
export function latentWindow(clip: PreparedClip, start: number, F: number, out?: Float32Array): Float32Array {
  const [C, Fc, h, w] = clip.latentShape;
  const hw = h * w;
  const dst = out ?? new Float32Array(C * F * hw);
  for (let c = 0; c < C; c++) dst.set(clip.latents.subarray((c * Fc + start) * hw, (c * Fc + start + F) * hw), c * F * hw);
  return dst;
}

export function speechWindow(clip: PreparedClip, start: number, F: number, stride: number): Float32Array {
  const D = clip.speechDim;
  const row0 = stride * start;
  const rows = stride * (F - 1) + 1;
  return clip.speech.slice(row0 * D, (row0 + rows) * D);
}

function maskWindow(mask: Float32Array, shape: readonly number[], start: number, F: number): Float32Array {
  const hw = shape[2]! * shape[3]!;
  return mask.slice(start * hw, (start + F) * hw);
}

export interface SftBatchSettings {
  seed: number;
  batch: number;
  /** Latent frames per window (reference frame included). */
  frames: number;
  shift: number;
  regions: RegionWeights;
  /** Probability that an item's speech is masked whole (teaches the null speech guidance uses). */
  speechDrop: number;
  /** Share of windows forced to start at latent frame 0 (the portrait's frame); the rest start uniformly. */
  portraitStart: number;
  /** Noise scale of a later-chunk window's reference frame (settings.ts, SftSettings.motionNoise). */
  motionNoise: number;
  /** Share of windows with the portrait anchor as frame 0 (settings.ts, SftSettings.anchorShare). */
  anchorShare: number;
  /** Highest u of the shifted timestep draw (1 = every timestep; less skips the noisiest). */
  maxU: number;
}

/** Regional weights with the part above `rest` multiplied by `boost` (a faint face's, face-contrast.ts). */
export function boostedRegions(r: RegionWeights, boost: number): RegionWeights {
  return boost === 1 ? r : { rest: r.rest, face: r.rest + (r.face - r.rest) * boost, lip: r.rest + (r.lip - r.rest) * boost };
}

/** A random window of a random clip for (seed, step, micro, item). */
export function pickWindow(d: TrainData, frames: number, rnd: () => number, portraitStart = 0): WindowRef {
  const clip = Math.floor(rnd() * d.clips.length);
  const Fc = d.clips[clip]!.latentShape[1];
  const start = Math.floor(rnd() * (Fc - frames + 1));
  // Drawn only when asked for, so runs without it keep their exact windows.
  if (portraitStart > 0 && rnd() < portraitStart) return { clip, start: 0 };
  return { clip, start };
}

/**
 * Noisy input x_σ = (1−σ)x0 + σε for frames ≥ refs and the target ε − x0. Frames < refs are the clean
 * references; the last of them (the motion frame a chunk starts from) gets refNoise·ε (its own noise,
 * which nothing else uses) when refNoise > 0.
 */
export function noisyPair(x0: Float32Array, eps: Float32Array, sigma: number, C: number, F: number, hw: number, xt: Float32Array, target: Float32Array, refNoise = 0, refs = 1): void {
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) {
      const base = (c * F + f) * hw;
      const extra = f === refs - 1 ? refNoise : 0;
      for (let p = 0; p < hw; p++) {
        const i = base + p;
        target[i] = eps[i]! - x0[i]!;
        xt[i] = f < refs ? x0[i]! + extra * eps[i]! : (1 - sigma) * x0[i]! + sigma * eps[i]!;
      }
    }
  }
}

/** Frame 0 of a [C, F, h, w] window replaced by the clip's first (portrait) latent: the anchor. */
export function anchorWindow(clip: PreparedClip, x0: Float32Array, F: number): Float32Array {
  const [C, Fc, h, w] = clip.latentShape;
  const hw = h * w;
  for (let c = 0; c < C; c++) x0.set(clip.latents.subarray(c * Fc * hw, (c * Fc + 1) * hw), c * F * hw);
  return x0;
}

/** The feeds of one SFT micro-batch (context replicated from the package's cached text context). */
export function sftBatch(d: TrainData, context: Float32Array, s: SftBatchSettings, step: number, micro: number): { feeds: Feeds; windows: WindowRef[]; sigmas: number[] } {
  const { batch: B, frames: F } = s;
  const C = d.channels;
  const hw = d.h * d.w;
  const n = C * F * hw;
  const Tv = d.stride * (F - 1) + 1;
  const D = d.speechDim;
  const feeds = {
    latents: new Float32Array(B * n),
    target: new Float32Array(B * n),
    weight: new Float32Array(B * F * hw),
    timesteps: new Float32Array(B * F),
    context: new Float32Array(B * context.length),
    speech_features: new Float32Array(B * Tv * D),
    speech_mask: new Float32Array(B * Tv),
  };
  const rnd = stepRandom(s.seed, step, `sft-batch-${micro}`);
  const windows: WindowRef[] = [];
  const sigmas: number[] = [];
  for (let b = 0; b < B; b++) {
    const wref = pickWindow(d, F, rnd, s.portraitStart);
    const clip = d.clips[wref.clip]!;
    const sigma = shiftedSigma(rnd() * s.maxU, s.shift);
    const drop = rnd() < s.speechDrop;
    const x0 = latentWindow(clip, wref.start, F);
    const eps = gaussianNoise(s.seed, noiseStream(step, `sft-noise-${micro}-${b}`), n);
    // Drawn only when asked for, so runs without them keep their exact draws.
    const anchored = s.anchorShare > 0 && rnd() < s.anchorShare;
    const refNoise = s.motionNoise > 0 && (wref.start > 0 || anchored) ? rnd() * s.motionNoise : 0;
    const refs = anchored ? 2 : 1;
    if (anchored) anchorWindow(clip, x0, F);
    noisyPair(x0, eps, sigma, C, F, hw, feeds.latents.subarray(b * n, (b + 1) * n), feeds.target.subarray(b * n, (b + 1) * n), refNoise, refs);
    feeds.weight.set(latentLossWeights(maskWindow(clip.lipMask, clip.latentShape, wref.start, F), maskWindow(clip.faceMask, clip.latentShape, wref.start, F), F, hw, boostedRegions(s.regions, d.faceBoost?.[wref.clip] ?? 1), refs), b * F * hw);
    for (let f = refs; f < F; f++) feeds.timesteps[b * F + f] = sigma * 1000;
    feeds.context.set(context, b * context.length);
    feeds.speech_features.set(speechWindow(clip, wref.start, F, d.stride), b * Tv * D);
    if (drop) feeds.speech_mask.fill(1, b * Tv, (b + 1) * Tv);
    windows.push(wref);
    sigmas.push(sigma);
  }
  return { feeds, windows, sigmas };
}
