// How a long clip is cut into DiT chunks (DESIGN 6, "long speech"): every chunk has the same number of
// latent frames (one compiled graph serves them all); chunk k > 0 starts with the last `motion` latent
// frames of chunk k − 1 as clean conditioning frames (timestep 0) and generates the rest. Chunk 0's
// conditioning frame is the portrait latent. Memory is one chunk whatever the length of the speech.
//
// Video ↔ latent frames follow the Wan2.2 VAE (stride s = 4): latent frame 0 is video frame 0 and
// latent frame j ≥ 1 is video frames s(j−1)+1 .. s·j. A chunk starting at latent frame a covers video
// frames s·a + v for its v = 0 .. s(F−1) (its local frame 0 stands for video frame s·a, the last one of
// latent frame a), which is where its speech rows come from.

export interface Chunk {
  index: number;
  /** First global latent frame of the chunk. */
  start: number;
  /** Latent frames in the chunk (the same for every chunk of a plan). */
  frames: number;
  /** Leading latent frames given as clean conditioning (1 = the portrait for chunk 0; `motion` later, plus the anchor). */
  cond: number;
  /** Frame 0 is the portrait latent (the anchor), not the previous chunk's. */
  anchored: boolean;
  /** Global latent frames this chunk contributes to the video: [start + cond, min(start + frames, total)), chunk 0 from 0. */
  emitFrom: number;
  emitTo: number;
}

export interface ChunkPlan {
  /** Video frames of the output (round(duration · fps)). */
  videoFrames: number;
  /** Latent frames the video needs: ceil((videoFrames − 1)/s) + 1 (at least 2). */
  latentFrames: number;
  /** Latent frames per chunk. */
  chunkFrames: number;
  motion: number;
  /** Chunks after the first see the portrait as frame 0. */
  anchor: boolean;
  stride: number;
  chunks: Chunk[];
  /** Video frames the speech features must cover: s·(last chunk end − 1) + 1 (≥ videoFrames). */
  paddedVideoFrames: number;
}

export function planChunks(videoFrames: number, opts: { chunkLatentFrames: number; motionLatentFrames: number; stride: number; portraitAnchor?: boolean }): ChunkPlan {
  const { stride: s } = opts;
  const anchor = opts.portraitAnchor === true;
  if (!Number.isInteger(videoFrames) || videoFrames < 1) throw new RangeError(`the video needs at least one frame (got ${videoFrames})`);
  const M = opts.motionLatentFrames;
  if (!Number.isInteger(opts.chunkLatentFrames) || opts.chunkLatentFrames < 2) throw new RangeError(`chunks need at least 2 latent frames (got ${opts.chunkLatentFrames})`);
  // Leading clean frames of every chunk after the first: the motion frames, and the anchor before them.
  const lead = M + (anchor ? 1 : 0);
  const maxM = opts.chunkLatentFrames - 1 - (lead - M);
  if (!Number.isInteger(M) || M < 1 || M > maxM) throw new RangeError(`motion frames must be between 1 and ${maxM}${anchor ? ' with the portrait anchor' : ''} (got ${M})`);
  const latentFrames = Math.max(2, Math.ceil((videoFrames - 1) / s) + 1);
  // A clip shorter than one chunk is one chunk of exactly its length (no wasted frames).
  const F = Math.min(opts.chunkLatentFrames, latentFrames);
  const chunks: Chunk[] = [];
  for (let start = 0, k = 0; ; k++) {
    const anchored = anchor && k > 0;
    const cond = k === 0 ? 1 : lead;
    const emitFrom = k === 0 ? 0 : start + cond;
    const emitTo = Math.min(start + F, latentFrames);
    chunks.push({ index: k, start, frames: F, cond, anchored, emitFrom, emitTo });
    if (start + F >= latentFrames) break;
    start += F - lead;
  }
  const last = chunks[chunks.length - 1]!;
  return { videoFrames, latentFrames, chunkFrames: F, motion: M, anchor, stride: s, chunks, paddedVideoFrames: s * (last.start + F - 1) + 1 };
}

/** Video frames of the decoded latent frame j (1 for frame 0, s after). */
export const videoFramesOfLatent = (j: number, s: number): number => (j === 0 ? 1 : s);
