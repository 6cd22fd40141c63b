// ReFree-S2V adapter configuration: the multi-level speech encoder, the per-block level selectors and
// the speech injection (multi-head FiLM, or windowed cross-attention for the ablation). The paper
// (seed/refree-s2v-paper.md) fixes the structure but not the sizes; every number below is our choice
// and the reason is written next to it. One config type builds the tiny test adapter and the 5B one.
import type { DitConfig } from '../config.js';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import type { InjectPoint } from '../dit/block.js';

export type InjectionMode = 'film' | 'cross-attention';

export interface SpeechWindow {
  /** Whole latent frames of speech before a latent frame's own frames that it may see. */
  past: number;
  /** Whole latent frames of speech after a latent frame's own frames (anticipation). */
  future: number;
}

export interface ReFreeConfig {
  /** DiT hidden width the injection writes into (Wan2.2 TI2V-5B: 3072). */
  dim: number;
  /** DiT blocks (to validate `injectBlocks`). */
  layers: number;
  /** FiLM heads K; γ_k, β_k have width dim/K. Equal to the DiT's attention heads so that a FiLM head
   *  modulates exactly the channels one attention head reads. Also the cross-attention variant's heads. */
  filmHeads: number;
  /** Width of the speech features fed to the encoder, per video frame (front-end output). */
  speechDim: number;
  /** Width D of the encoder and of every level's per-latent-frame summary. */
  hidden: number;
  /** Hidden width of the MLP shared by all levels. */
  mlpHidden: number;
  /** L, the number of levels (= kernelSizes.length). */
  levels: number;
  /** K_l per level, in VIDEO frames, odd (same-length output with symmetric padding), strictly growing. */
  kernelSizes: readonly number[];
  /** DiT blocks that receive speech; each has its own level selector and FiLM (or cross-attention). */
  injectBlocks: readonly number[];
  /** Where inside a block the DiT calls the hook (engine/model/dit/block.ts). */
  injectAt: InjectPoint;
  /** Speech a latent frame sees, in latent frames around its own; see frames.ts. */
  window: SpeechWindow;
  /** Video frames per latent frame (the VAE's temporal compression, 4 for Wan2.2). */
  temporalStride: number;
  mode: InjectionMode;
  /** LayerNorm / RMSNorm epsilon of the adapter's norms. */
  eps: number;
}

/** Blocks 0, every, 2·every, ... below `layers`. */
export function everyKthBlock(layers: number, every: number, first = 0): number[] {
  const out: number[] = [];
  for (let i = first; i < layers; i += every) out.push(i);
  return out;
}

export class ReFreeConfigError extends Error {
  constructor(detail: string) {
    super(`ReFree config: ${detail}`);
    this.name = 'ReFreeConfigError';
  }
}

/** Throws a ReFreeConfigError naming the first inconsistency; returns the config for chaining. */
export function validateReFreeConfig(c: ReFreeConfig): ReFreeConfig {
  const posInt = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new ReFreeConfigError(`${what} must be a positive integer, got ${v}`);
  };
  posInt(c.dim, 'dim');
  posInt(c.layers, 'layers');
  posInt(c.filmHeads, 'filmHeads');
  posInt(c.speechDim, 'speechDim');
  posInt(c.hidden, 'hidden');
  posInt(c.mlpHidden, 'mlpHidden');
  posInt(c.levels, 'levels');
  posInt(c.temporalStride, 'temporalStride');
  if (c.dim % c.filmHeads !== 0) throw new ReFreeConfigError(`dim ${c.dim} is not divisible by ${c.filmHeads} FiLM heads`);
  if (c.kernelSizes.length !== c.levels) throw new ReFreeConfigError(`${c.levels} levels but ${c.kernelSizes.length} kernel sizes [${c.kernelSizes.join(',')}]`);
  c.kernelSizes.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new ReFreeConfigError(`kernel size ${k} of level ${i} must be an odd positive integer (same-length output)`);
    if (i > 0 && k <= c.kernelSizes[i - 1]!) throw new ReFreeConfigError(`kernel sizes [${c.kernelSizes.join(',')}] must grow with the level (local → global)`);
  });
  for (const [k, v] of Object.entries(c.window)) {
    if (!Number.isInteger(v) || v < 0) throw new ReFreeConfigError(`window.${k} must be a non-negative integer, got ${v}`);
  }
  const seen = new Set<number>();
  for (const b of c.injectBlocks) {
    if (!Number.isInteger(b) || b < 0 || b >= c.layers) throw new ReFreeConfigError(`inject block ${b} is outside the DiT's blocks 0..${c.layers - 1}`);
    if (seen.has(b)) throw new ReFreeConfigError(`inject block ${b} is listed twice`);
    seen.add(b);
  }
  if (!(c.eps > 0)) throw new ReFreeConfigError(`eps must be > 0, got ${c.eps}`);
  return c;
}

/**
 * A config matched to a DiT. Defaults (overridable):
 * - injectBlocks: every 2nd block (0, 2, ..., 28 of 30 in the 5B model). Per block the adapter costs
 *   hidden·2·dim parameters (3.1M for 5B), ~47M for 15 blocks, ~94M for all 30, and nearly no compute
 *   (FiLM parameters are computed per latent frame, not per token). Every other block keeps training
 *   memory (weights + AdamW moments) under 1 GB while still giving early, middle and late blocks their
 *   own selector, which is what the level selectors are for (Wan2.2-S2V injects in 13 of its 40
 *   blocks; FantasyTalking in all). Models with ≤ 4 blocks get every block.
 * - injectAt 'after_self_attn': the DiT's default; the speech-modulated tokens then feed this block's
 *   text cross-attention and FFN (the paper does not state the position).
 * - window past 2, future 1 latent frames (see frames.ts): at 15 fps a latent frame is 4 video frames
 *   = 267 ms, so a latent frame sees 533 ms before its own frames and 267 ms after them (lip shapes
 *   anticipate the sound by ~100–200 ms). Higher levels reach further: their CNN kernel adds
 *   ±(K_L−1)/2 video frames on both sides.
 */
export function refreeConfigFor(dit: DitConfig, o: Partial<ReFreeConfig> & Pick<ReFreeConfig, 'speechDim' | 'hidden' | 'kernelSizes'>): ReFreeConfig {
  const layers = o.layers ?? dit.layers;
  return validateReFreeConfig({
    dim: dit.dim,
    layers,
    filmHeads: dit.heads,
    mlpHidden: 4 * o.hidden,
    levels: o.kernelSizes.length,
    injectBlocks: everyKthBlock(layers, layers <= 4 ? 1 : 2),
    injectAt: 'after_self_attn',
    window: { past: 2, future: 1 },
    temporalStride: 4,
    mode: 'film',
    eps: 1e-6,
    ...o,
  });
}

/**
 * 5B preset: L = 4 levels with K = 3, 9, 21, 45 video frames (0.2 s, 0.6 s, 1.4 s, 3 s at 15 fps):
 * from a phoneme (~100 ms) through a syllable and a word to a phrase, the local-to-global range the
 * paper describes. D = 512 keeps the four full 1-D convolutions at 512²·78 ≈ 20M parameters.
 * speechDim 2304 = the default wav2vec2 front-end (three 768-wide hidden states, speech/wav2vec2.ts).
 */
export const REFREE_5B: ReFreeConfig = refreeConfigFor(WAN22_TI2V_5B.dit, { speechDim: 2304, hidden: 512, kernelSizes: [3, 9, 21, 45] });

/** Tiny preset for tests: 3 levels, every block of the 2-block tiny DiT. */
export const REFREE_TINY: ReFreeConfig = refreeConfigFor(TINY.dit, { speechDim: 12, hidden: 16, mlpHidden: 32, kernelSizes: [1, 3, 7] });
