// The face track of a clip and the square crop that follows it.
//
// The detector runs on every k-th frame. Its boxes are cleaned in three steps: a running median over
// the detections (a single wrong or jumpy box is dropped, a real move is kept), linear interpolation
// to every frame (detections missing on some sampled frames are bridged), and a centred moving average
// over frames (the remaining frame-to-frame wobble of the detector is removed).
//
// The crop side is constant over a clip (margin × the median face size): a crop whose size followed the
// detector would make the face breathe in and out. Its position is either
//   - fixed (one box for the whole clip) when the smoothed face centre stays within FIXED_MOTION of the
//     crop side of its median — nearly static clips, the common case for talking heads. A tracked crop
//     there would only turn the detector's residual jitter into a swimming background, which the model
//     would learn as camera motion; or
//   - tracked (the box follows the smoothed centre, clamped inside the frame) when the head really
//     moves, so the face stays where the masks and the reference frame say it is.
import type { CropBox, TrackSummary } from './types.js';

export interface FaceSample {
  /** Frame index (at the training rate). */
  frame: number;
  /** Centre and longer side of the face box in source pixels, or null when no face was found. */
  face: { cx: number; cy: number; side: number } | null;
}

export interface TrackOptions {
  width: number;
  height: number;
  frames: number;
  /** Crop side as a multiple of the face box's longer side (default 1.8, as the portrait crop). */
  margin?: number;
  /** Median window over detections (odd, default 5) and moving-average window over frames (odd, default 7). */
  medianWindow?: number;
  averageWindow?: number;
  /** Below this motion (fraction of the crop side) the crop is fixed (default 0.05). */
  fixedMotion?: number;
  detectEvery: number;
}

export interface FaceTrack {
  boxes: CropBox[];
  summary: TrackSummary;
}

export const FIXED_MOTION = 0.05;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Running median with a centred window that shrinks at the ends. */
export function runningMedian(xs: readonly number[], window: number): number[] {
  const r = window >> 1;
  return xs.map((_, i) => median(xs.slice(Math.max(0, i - r), Math.min(xs.length, i + r + 1))));
}

/** Centred moving average with a window that shrinks at the ends. */
export function movingAverage(xs: readonly number[], window: number): number[] {
  const r = window >> 1;
  return xs.map((_, i) => {
    const lo = Math.max(0, i - r);
    const hi = Math.min(xs.length, i + r + 1);
    let s = 0;
    for (let j = lo; j < hi; j++) s += xs[j]!;
    return s / (hi - lo);
  });
}

/** Values at `frames` frames from values at sorted sample frames: linear between samples, held beyond them. */
export function interpolate(at: readonly number[], values: readonly number[], frames: number): number[] {
  const out = new Array<number>(frames);
  let k = 0;
  for (let f = 0; f < frames; f++) {
    while (k + 1 < at.length && at[k + 1]! <= f) k++;
    if (f <= at[0]!) out[f] = values[0]!;
    else if (k + 1 >= at.length) out[f] = values[at.length - 1]!;
    else {
      const t = (f - at[k]!) / (at[k + 1]! - at[k]!);
      out[f] = values[k]! + t * (values[k + 1]! - values[k]!);
    }
  }
  return out;
}

function boxAt(cx: number, cy: number, size: number, width: number, height: number): CropBox {
  const clamp = (v: number, hi: number): number => Math.min(Math.max(0, v), hi);
  return { x: clamp(Math.round(cx - size / 2), width - size), y: clamp(Math.round(cy - size / 2), height - size), size };
}

/** The crop per frame from the face samples; null when no sample has a face. */
export function faceTrack(samples: readonly FaceSample[], o: TrackOptions): FaceTrack | null {
  const found = samples.filter((s) => s.face !== null).sort((a, b) => a.frame - b.frame);
  if (found.length === 0 || o.frames < 1) return null;
  const mw = o.medianWindow ?? 5;
  const aw = o.averageWindow ?? 7;
  const at = found.map((s) => s.frame);
  const mx = runningMedian(found.map((s) => s.face!.cx), mw);
  const my = runningMedian(found.map((s) => s.face!.cy), mw);
  const side = median(found.map((s) => s.face!.side));
  const cx = movingAverage(interpolate(at, mx, o.frames), aw);
  const cy = movingAverage(interpolate(at, my, o.frames), aw);
  const size = Math.max(1, Math.min(o.width, o.height, Math.round(side * (o.margin ?? 1.8))));
  const mcx = median(cx);
  const mcy = median(cy);
  let motion = 0;
  for (let f = 0; f < o.frames; f++) motion = Math.max(motion, Math.hypot(cx[f]! - mcx, cy[f]! - mcy) / size);
  const mode: TrackSummary['mode'] = motion <= (o.fixedMotion ?? FIXED_MOTION) ? 'fixed' : 'tracked';
  const fixed = boxAt(mcx, mcy, size, o.width, o.height);
  const boxes = cx.map((x, f) => (mode === 'fixed' ? fixed : boxAt(x, cy[f]!, size, o.width, o.height)));
  return {
    boxes,
    summary: {
      mode,
      sampled: samples.length,
      found: found.length,
      detectEvery: o.detectEvery,
      cropSize: size,
      motion: Math.round(motion * 1e4) / 1e4,
      sourceWidth: o.width,
      sourceHeight: o.height,
      first: boxes[0]!,
      middle: boxes[boxes.length >> 1]!,
      last: boxes[boxes.length - 1]!,
    },
  };
}
