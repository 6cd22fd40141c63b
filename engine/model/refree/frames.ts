// Video frames ↔ latent frames, and the speech window each latent frame sees.
//
// The Wan2.2 VAE compresses time causally by s = 4 (wan2.2-ti2v-5b.md §2): latent frame 0 is video
// frame 0 alone, latent frame i ≥ 1 is video frames s(i−1)+1 .. s·i. So a clip has T_video = s(T_lat−1)+1
// frames. Speech features are aligned to video frames (speech/align.ts); the encoder then summarises
// them per latent frame over a window:
//
//   window(i) = video frames  e_i − s(past+1) + 1  ..  e_i + s·future,   e_i = s·i (last frame of i)
//
// i.e. for i ≥ 1 exactly the video frames of latent frames i−past .. i+future, W = s(past+1+future)
// frames. Latent frame 0 uses the same formula (its window ends s·future frames after video frame 0),
// so every window has the same length and the same offset meaning; positions before frame 0 or after
// the last frame are zero-padded by the encoder.
import { ReFreeConfigError } from './config.js';
import type { SpeechWindow } from './config.js';

export function latentFramesFor(videoFrames: number, stride: number): number {
  if (!Number.isInteger(videoFrames) || videoFrames < 1 || (videoFrames - 1) % stride !== 0) {
    throw new ReFreeConfigError(`${videoFrames} video frames do not map onto latent frames: the count must be ${stride}·n + 1`);
  }
  return (videoFrames - 1) / stride + 1;
}

export function videoFramesFor(latentFrames: number, stride: number): number {
  return stride * (latentFrames - 1) + 1;
}

/** The video frames [first, last] (inclusive) that latent frame i is made from. */
export function videoRangeOfLatent(i: number, stride: number): [number, number] {
  return i === 0 ? [0, 0] : [stride * (i - 1) + 1, stride * i];
}

/** Video frames in one latent frame's speech window. */
export function windowLength(w: SpeechWindow, stride: number): number {
  return stride * (w.past + 1 + w.future);
}

/** Window offsets relative to e_i (the last video frame of latent frame i): −s(past+1)+1 .. s·future. */
export function windowOffsets(w: SpeechWindow, stride: number): number[] {
  const first = -stride * (w.past + 1) + 1;
  return Array.from({ length: windowLength(w, stride) }, (_, j) => first + j);
}

/** Video frame index of every window position, [T_lat][W]; values may fall outside 0..T_video−1. */
export function windowIndices(latentFrames: number, w: SpeechWindow, stride: number): number[][] {
  const offs = windowOffsets(w, stride);
  return Array.from({ length: latentFrames }, (_, i) => offs.map((o) => stride * i + o));
}
