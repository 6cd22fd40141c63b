// Host-side pieces of a training batch that are not tensors of the model: the regional loss weights on
// the latent grid, the random speech-masking spans of masked-speech DPO, and the per-step random
// numbers. Every random draw is a pure function of (seed, step, purpose), so a run resumed from a
// checkpoint at step k draws exactly what an uninterrupted run draws at step k (the "RNG state" in a
// checkpoint is the step counter).
import { seededRandom } from '../graph/params.js';

export interface RegionWeights {
  lip: number;
  face: number;
  rest: number;
}

/** The paper's SFT weights: lip 100, the rest of the face 30, everything else 1. */
export const PAPER_REGION_WEIGHTS: RegionWeights = { lip: 100, face: 30, rest: 1 };

/**
 * Loss weights [F, h, w] for one item: rest + (face − rest)·face + (lip − face)·lip, so a cell fully
 * inside the lips gets `lip`, one inside the face `face`, one outside `rest` (masks are coverage
 * fractions 0..1; the lip mask lies inside the face mask). The first `cleanFrames` latent frames (the
 * reference / motion frames the model is given clean) get 0.
 */
export function latentLossWeights(lip: Float32Array, face: Float32Array, frames: number, cells: number, w: RegionWeights, cleanFrames: number): Float32Array {
  if (lip.length !== frames * cells || face.length !== frames * cells) throw new RangeError(`masks must have ${frames}·${cells} values (got lip ${lip.length}, face ${face.length})`);
  const out = new Float32Array(frames * cells);
  for (let i = cleanFrames * cells; i < out.length; i++) {
    const f = Math.min(1, Math.max(face[i]!, lip[i]!));
    const l = Math.min(1, lip[i]!);
    out[i] = w.rest + (w.face - w.rest) * f + (w.lip - w.face) * l;
  }
  return out;
}

/** FNV-1a of a string (stream names). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A uniform [0, 1) stream that depends only on (seed, step, purpose). */
export function stepRandom(seed: number, step: number, purpose: string): () => number {
  return seededRandom((hash(`${purpose}|${step}`) ^ Math.imul(seed + 1, 0x9e3779b1)) >>> 0);
}

/** A stream id for gaussianNoise (engine/generate/noise.ts) from (step, purpose): distinct per use. */
export function noiseStream(step: number, purpose: string): number {
  return hash(`${purpose}|${step}`) % 0x7fffffff;
}

/**
 * A speech mask [Tv] (1 = masked) of random contiguous spans covering round(ratio·Tv) frames (spans of
 * minSpan..maxSpan frames, placed where they do not overlap). ratio 0 gives all zeros, 1 all ones.
 */
export function speechSpanMask(videoFrames: number, ratio: number, rnd: () => number, minSpan = 3, maxSpan = 12): Float32Array {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`masking ratio must lie in [0, 1], got ${ratio}`);
  const m = new Float32Array(videoFrames);
  const target = Math.round(ratio * videoFrames);
  let masked = 0;
  for (let tries = 0; masked < target && tries < 10_000; tries++) {
    const len = Math.min(target - masked, minSpan + Math.floor(rnd() * (maxSpan - minSpan + 1)));
    const start = Math.floor(rnd() * (videoFrames - len + 1));
    let free = true;
    for (let i = start; i < start + len; i++) if (m[i]) free = false;
    if (!free && tries < 5_000) continue;
    for (let i = start; i < start + len; i++) {
      if (!m[i]) masked++;
      m[i] = 1;
    }
  }
  return m;
}

/** Flow-matching timestep σ for training: u ~ U(0,1) shifted as the sampler shifts its schedule. */
export function shiftedSigma(u: number, shift: number): number {
  return (shift * u) / (1 + (shift - 1) * u);
}
