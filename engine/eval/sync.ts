// Audio-visual sync in the manner of SyncNet's LSE-D / LSE-C, on two per-frame series: the mouth
// opening and the speech envelope. For each offset k in −maxOffset..+maxOffset the distance is
// 1 − Pearson r between mouth[i + k] and envelope[i] over the frames where both exist:
//   - offset k > 0: the mouth moves k frames after the sound (the video lags the audio);
//     k < 0: the mouth moves first (the video leads);
//   - distance (LSE-D-like) = the smallest distance over offsets, 0 (perfect) .. 2 (inverted);
//   - confidence (LSE-C-like) = median distance over offsets − that minimum: how much the best offset
//     stands out from the rest. Unrelated sound gives a flat curve and a small confidence.
// SyncNet computes its distances between learned embeddings of 0.2 s windows; the offset search and the
// min / median − min read-out are the same, the numbers are not comparable with SyncNet's.
import { median, pearson } from './stats.js';

export interface SyncResult {
  /** Best offset in frames (positive: the video lags the audio). */
  offset: number;
  /** min over offsets of 1 − r. */
  distance: number;
  /** median − min of the distances. */
  confidence: number;
  /** Pearson r at the best offset. */
  r: number;
  /** 1 − r at offsets −maxOffset..+maxOffset (index k + maxOffset). */
  distances: number[];
  maxOffset: number;
}

export const DEFAULT_MAX_OFFSET = 15;

export function syncSearch(mouth: ArrayLike<number>, envelope: ArrayLike<number>, maxOffset = DEFAULT_MAX_OFFSET): SyncResult {
  const n = Math.min(mouth.length, envelope.length);
  // With shorter clips the search is narrowed so that every offset still compares half the frames.
  const reach = Math.max(0, Math.min(maxOffset, Math.floor(n / 2)));
  const distances: number[] = [];
  for (let k = -reach; k <= reach; k++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = Math.max(0, -k); i < n && i + k < n; i++) {
      a.push(mouth[i + k]!);
      b.push(envelope[i]!);
    }
    const r = pearson(a, b);
    distances.push(Number.isFinite(r) ? 1 - r : 1);
  }
  let best = 0;
  for (let j = 1; j < distances.length; j++) if (distances[j]! < distances[best]!) best = j;
  const distance = distances[best] ?? 1;
  return { offset: best - reach, distance, confidence: median(distances) - distance, r: 1 - distance, distances, maxOffset: reach };
}

/** The series rotated by `shift` places (the end wraps to the front): speech that belongs elsewhere. */
export function circularShift(x: ArrayLike<number>, shift: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  if (!n) return out;
  const s = ((shift % n) + n) % n;
  for (let i = 0; i < n; i++) out[(i + s) % n] = x[i]!;
  return out;
}
