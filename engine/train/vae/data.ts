// The VAE's training data: synthetic clips (`refree synth`: <name>.mp4 + <name>.json truth), decoded
// by ffmpeg at the training size, with the lip and face ellipses of every frame from the truth. A
// batch is a set of short windows of s·n + 1 frames, drawn deterministically from (seed, step), with
// a per-pixel loss weight: 1 everywhere, + face inside the face ellipse, + lip inside the grown lip
// ellipse, + optionally detail on the face's edges (addDetailWeight), normalised to mean 1 over the batch.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readRateFrames } from '../prepare/frames.js';
import { lumaOf } from '../../watermark/invisible.js';
import { growEllipse, rasterizeEllipse, scaleEllipse } from '../../synth/masks.js';
import type { ClipTruth, Ellipse } from '../../synth/types.js';
import { CLIP_TRUTH_FORMAT } from '../../synth/types.js';
import { seededRandom } from '../../graph/params.js';

export class VaeDataError extends Error {
  override name = 'VaeDataError';
}

export interface VaeClip {
  id: string;
  /** RGB8 frames, size × size × 3. */
  frames: Uint8Array[];
  lips: Ellipse[];
  face: Ellipse[];
}

export interface LoadOptions {
  size: number;
  /** Frames a window needs: shorter clips are refused. */
  minFrames: number;
  /** Use at most this many clips (in name order). */
  maxClips?: number;
  /** Use at most this many frames of each clip. */
  maxFrames?: number;
  signal?: AbortSignal;
  onClip?: (done: number, total: number, id: string) => void;
}

/** Lip ellipses are grown by this factor: the lips' outer edge and a little skin around them. */
export const LIP_GROW = 1.4;

export async function listSynthClips(dir: string): Promise<{ id: string; video: string; truth: string }[]> {
  const st = await stat(dir).catch(() => null);
  if (!st) throw new VaeDataError(`the clips folder ${dir} does not exist: make clips with \`refree synth --out ${dir}\``);
  if (!st.isDirectory()) throw new VaeDataError(`${dir} is a file, not a folder of clips: give the folder \`refree synth --out\` wrote`);
  const names = (await readdir(dir)).sort();
  const set = new Set(names);
  const out = names
    .filter((n) => n.endsWith('.json') && set.has(`${n.slice(0, -5)}.mp4`))
    .map((n) => ({ id: n.slice(0, -5), video: path.join(dir, `${n.slice(0, -5)}.mp4`), truth: path.join(dir, n) }));
  if (out.length === 0) throw new VaeDataError(`${dir} holds no synthetic clips (<name>.mp4 beside its <name>.json truth): make some with \`refree synth --out ${dir}\``);
  return out;
}

async function readTruth(file: string): Promise<ClipTruth> {
  let t: ClipTruth;
  try {
    t = JSON.parse(await readFile(file, 'utf8')) as ClipTruth;
  } catch (e) {
    throw new VaeDataError(`${file} is not readable JSON (${(e as Error).message}): remake the clip with \`refree synth\``);
  }
  if (t.format !== CLIP_TRUTH_FORMAT || !Array.isArray(t.perFrame?.lips) || !Array.isArray(t.perFrame?.face)) {
    throw new VaeDataError(`${file} is not a synthetic clip's truth file (format ${JSON.stringify(t.format)}, expected "${CLIP_TRUTH_FORMAT}"): the VAE trains on clips made by \`refree synth\``);
  }
  return t;
}

export async function loadVaeClips(dir: string, o: LoadOptions): Promise<VaeClip[]> {
  const list = (await listSynthClips(dir)).slice(0, o.maxClips ?? Infinity);
  const clips: VaeClip[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    const truth = await readTruth(c.truth);
    const frames: Uint8Array[] = [];
    for await (const f of readRateFrames(c.video, { fps: truth.fps, width: o.size, height: o.size, signal: o.signal, ...(o.maxFrames ? { maxFrames: o.maxFrames } : {}) })) frames.push(f.data);
    const n = Math.min(frames.length, truth.perFrame.lips.length);
    if (n < o.minFrames) throw new VaeDataError(`${c.video} has ${n} frames, a training window needs ${o.minFrames}: make longer clips (refree synth --seconds) or use fewer --frames`);
    const k = o.size / truth.size;
    clips.push({ id: c.id, frames: frames.slice(0, n), lips: truth.perFrame.lips.slice(0, n).map((e) => scaleEllipse(e, k)), face: truth.perFrame.face.slice(0, n).map((e) => scaleEllipse(e, k)) });
    o.onClip?.(i + 1, list.length, c.id);
  }
  return clips;
}

export interface WeightSettings {
  lip: number;
  face: number;
  /** Extra weight on the face's edges, contrast-normalised (addDetailWeight); 0 or absent: none. */
  detail?: number;
}

/**
 * Mean luma gradient (in [-1, 1] units per pixel) of a face with well-contrasted features: a face whose
 * own mean is lower gets its detail weight raised by (DETAIL_REFERENCE / its mean)², at most
 * DETAIL_MAX_BOOST times. On the synthetic world lighter faces measure 0.024–0.076, darker ones 0.018–0.040.
 */
export const DETAIL_REFERENCE = 0.05;
export const DETAIL_MAX_BOOST = 4;

/**
 * Adds detail·boost·E/Ē inside the face to `out`: E is the luma gradient magnitude of the frame (central
 * differences), Ē its mean over the face. A plain squared error counts a blurred brow or lip line on a
 * dark face up to a few times less than the same blur on a light face, because the edge itself is
 * fainter; so the decoder learned to keep light faces' features and to smear dark faces' eyes,
 * brows and lips until a face tracker no longer finds the face. Weighting edges relative to the face's own
 * contrast (and boosting low-contrast faces) asks for the same sharpness on every skin tone.
 */
export function addDetailWeight(rgb: Uint8Array, face: Float32Array, size: number, detail: number, out: Float32Array): void {
  const edge = lumaEdges(rgb, size);
  const mean = meanInside(edge, face);
  // A face with no edges at all (a flat colour) has nothing to sharpen.
  if (!(mean > 1e-6)) return;
  const k = (detail * faintnessBoost(mean, DETAIL_MAX_BOOST)) / mean;
  for (let i = 0; i < out.length; i++) out[i]! += k * face[i]! * edge[i]!;
}

/** (DETAIL_REFERENCE / a face's mean edge)², at most `most`: how much more a faint face is weighed. */
export function faintnessBoost(meanEdge: number, most: number): number {
  return Math.min(most, (DETAIL_REFERENCE / meanEdge) ** 2);
}

/** Luma gradient magnitude of a square RGB24 frame, central differences, in [-1, 1] units per pixel. */
export function lumaEdges(rgb: Uint8Array, size: number): Float32Array {
  // Luma in 0..255; a central difference over two pixels in [-1, 1] units is Δ/255.
  const luma = lumaOf(rgb, size, size);
  const edge = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const gx = (luma[y * size + Math.min(size - 1, x + 1)]! - luma[y * size + Math.max(0, x - 1)]!) / 255;
      const gy = (luma[Math.min(size - 1, y + 1) * size + x]! - luma[Math.max(0, y - 1) * size + x]!) / 255;
      edge[y * size + x] = Math.hypot(gx, gy);
    }
  }
  return edge;
}

/** Mean of `values` weighted by `mask` (coverage 0..1); 0 for an empty mask. */
export function meanInside(values: Float32Array, mask: Float32Array): number {
  let sum = 0;
  let area = 0;
  for (let i = 0; i < values.length; i++) {
    sum += mask[i]! * values[i]!;
    area += mask[i]!;
  }
  return area > 0 ? sum / area : 0;
}

/** 1 + face·face mask + lip·(grown) lip mask (+ the face's detail weight), one frame. */
export function frameWeight(clip: VaeClip, t: number, size: number, w: WeightSettings, out: Float32Array): void {
  const lip = rasterizeEllipse(growEllipse(clip.lips[t]!, LIP_GROW), size);
  const face = rasterizeEllipse(clip.face[t]!, size);
  for (let i = 0; i < size * size; i++) out[i] = 1 + w.face * face[i]! + w.lip * lip[i]!;
  if (w.detail) addDetailWeight(clip.frames[t]!, face, size, w.detail, out);
}

/** Pixels [B,3,T,S,S] in [-1,1] of frames [start, start+T) of each clip. */
export function pixelsOf(items: readonly { clip: VaeClip; start: number }[], frames: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(items.length * 3 * frames * plane);
  items.forEach(({ clip, start }, b) => {
    for (let t = 0; t < frames; t++) {
      const src = clip.frames[start + t]!;
      for (let c = 0; c < 3; c++) {
        const base = ((b * 3 + c) * frames + t) * plane;
        for (let i = 0; i < plane; i++) out[base + i] = src[i * 3 + c]! / 127.5 - 1;
      }
    }
  });
  return out;
}

export interface VaeBatch {
  pixels: Float32Array;
  weight: Float32Array;
}

/** The batch of update `step` (1-based): windows drawn from (seed, step), so a resumed run sees the same. */
export function vaeBatch(clips: readonly VaeClip[], seed: number, step: number, batch: number, frames: number, size: number, w: WeightSettings): VaeBatch {
  const rnd = seededRandom((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step, 0x85ebca6b)) >>> 0);
  const items = Array.from({ length: batch }, () => {
    const clip = clips[Math.floor(rnd() * clips.length)]!;
    return { clip, start: Math.floor(rnd() * (clip.frames.length - frames + 1)) };
  });
  const plane = size * size;
  const weight = new Float32Array(batch * frames * plane);
  items.forEach(({ clip, start }, b) => {
    for (let t = 0; t < frames; t++) frameWeight(clip, start + t, size, w, weight.subarray((b * frames + t) * plane, (b * frames + t + 1) * plane));
  });
  let sum = 0;
  for (const v of weight) sum += v;
  const k = weight.length / sum;
  for (let i = 0; i < weight.length; i++) weight[i]! *= k;
  return { pixels: pixelsOf(items, frames, size), weight };
}
