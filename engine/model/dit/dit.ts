// The Wan2.2 DiT forward (WanModel, wan2.2-ti2v-5b.md §1) in the graph language.
//
//   latents [B, C_in, F, H, W]  (latent grid; H, W before patching)
//   timesteps [B, F/pt]          raw t in [0, 1000], ONE PER LATENT FRAME (see embeddings.ts; TI2V
//                                conditioning is the caller's: frame 0 holds the clean image latent and
//                                gets t = 0 here)
//   context [B, textLen, textDim] the text encoder output zero-padded to textLen rows; every row is attended
//   → velocity [B, C_out, F, H, W]
//
// Every size comes from the DitConfig and the latent shape, so shapes are static and the same code builds
// the tiny test model and the 5B model. Weights come from a WeightProvider by official name.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { ShapeError } from '../../graph/errors.js';
import type { AttentionImpl } from '../../graph/ops/attention.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import { split } from '../../graph/ops/indexing.js';
import { layerNorm } from '../../graph/ops/normalization.js';
import { reshape, unsqueeze } from '../../graph/ops/shape.js';
import type { DitConfig } from '../config.js';
import type { WeightProvider } from '../weight-provider.js';
import type { InjectHook, InjectPoint, InjectContext } from './block.js';
import { ditBlock } from './block.js';
import { recompute } from '../../graph/recompute.js';
import { textEmbedding, timeConditioning } from './embeddings.js';
import { patchify, tokenGrid, unpatchify } from './patch.js';
import { ropeSplit } from './rope.js';
import type { LinearHook } from './weights.js';
import { ditWeights } from './weights.js';

export type { InjectHook, InjectPoint, InjectContext } from './block.js';
export type { LinearHook } from './weights.js';

export interface DitOptions {
  /**
   * Self-attention form. 'fused' (default): one com.microsoft.MultiHeadAttention node, inference only
   * (no VJP). Training graphs use 'naive' (short sequences) or 'blockwise' (long ones; open the session
   * with disableCse).
   */
  attention?: AttentionImpl;
  /** Cross-attention form; defaults to the self-attention form. */
  crossAttention?: AttentionImpl;
  /** Query rows per block for 'blockwise'. */
  blockSize?: number;
  /** Speech-injection hook, called once per block at `injectAt` (default 'after_self_attn'). */
  inject?: InjectHook;
  injectAt?: InjectPoint;
  /** Wraps every linear layer by official name (LoRA). */
  linear?: LinearHook;
  /** 'float64' (default, as Wan) or 'compute' (the timestep's dtype; for EPs without float64 Sin/Cos). */
  timestepPrecision?: 'float64' | 'compute';
  /** RoPE base; Wan uses 10000. */
  ropeTheta?: number;
  /**
   * Training graphs: recompute each block's activations in the backward pass instead of keeping them
   * (graph/recompute.ts). Costs about one more forward; peak memory keeps one block's activations.
   */
  recompute?: boolean;
}

export interface DitInputs {
  latents: Tensor;
  timesteps: Tensor;
  context: Tensor;
}

const FLOAT_TYPES: readonly DType[] = ['float16', 'float32', 'float64'];

/** The activation dtype is the latents'; checks every input against the config before any op is built. */
function checkInputs(cfg: DitConfig, { latents, timesteps, context }: DitInputs): void {
  const shapes = [latents.shape, timesteps.shape, context.shape];
  const op = 'DiT';
  const [B, C] = latents.shape as [number, number];
  if (latents.rank !== 5 || C !== cfg.inDim) {
    throw new ShapeError(op, shapes, `latents must be [batch, ${cfg.inDim} channels, frames, height, width], got ${latents.rank === 5 ? `${C} channels` : `rank ${latents.rank}`}`);
  }
  const grid = tokenGrid(latents.shape, cfg.patch, op);
  if (timesteps.rank !== 2 || timesteps.shape[0] !== B || timesteps.shape[1] !== grid.frames) {
    throw new ShapeError(op, shapes, `timesteps must be [${B}, ${grid.frames}]: one raw timestep per batch item and latent frame (convert per-token timesteps with perFrameTimesteps)`);
  }
  if (context.rank !== 3 || context.shape[0] !== B || context.shape[1] !== cfg.textLen || context.shape[2] !== cfg.textDim) {
    throw new ShapeError(op, shapes, `context must be [${B}, textLen=${cfg.textLen}, textDim=${cfg.textDim}] (text encoder output zero-padded to textLen rows)`);
  }
  if (!FLOAT_TYPES.includes(latents.dtype) || context.dtype !== latents.dtype || !FLOAT_TYPES.includes(timesteps.dtype)) {
    throw new ShapeError(op, shapes, `latents and context must share one float dtype and timesteps must be float (got ${latents.dtype}, ${timesteps.dtype}, ${context.dtype})`);
  }
  if (cfg.dim % cfg.heads !== 0) throw new ShapeError(op, [[cfg.dim, cfg.heads]], `dim ${cfg.dim} is not divisible by ${cfg.heads} heads`);
  ropeSplit(cfg.dim / cfg.heads);
}

/** The DiT forward on graph tensors; returns the velocity [B, outDim, F, H, W] in the latents' dtype. */
export function ditForward(g: Graph, cfg: DitConfig, provider: WeightProvider, inputs: DitInputs, options: DitOptions = {}): Tensor {
  checkInputs(cfg, inputs);
  const { latents, timesteps, context } = inputs;
  const dtype = latents.dtype;
  const w = ditWeights(g, cfg, provider, dtype, options.linear);
  const grid = tokenGrid(latents.shape, cfg.patch);
  const B = latents.shape[0]!;
  const S = grid.h * grid.w;
  const { dim } = cfg;

  const x0 = g.scope('patch_embedding', () => w.linear('patch_embedding', patchify(latents, cfg.patch)));
  const { e, e0 } = g.scope('time', () => timeConditioning(w, timesteps, cfg.freqDim, dim, options.timestepPrecision));
  const ctx = g.scope('text_embedding', () => textEmbedding(w, context));

  const selfAttention = options.attention ?? 'fused';
  const injectAt = options.injectAt ?? 'after_self_attn';
  const injectContext: InjectContext = { weights: w, batch: B, grid, tokensPerFrame: S, dim, heads: cfg.heads, e, point: injectAt };
  let x = reshape(x0, [B, grid.frames, S, dim]);
  for (let i = 0; i < cfg.layers; i++) {
    const block = (xi: Tensor): Tensor => ditBlock(w, i, xi, e0, ctx, {
      grid,
      heads: cfg.heads,
      eps: cfg.eps,
      selfAttention,
      crossAttention: options.crossAttention ?? selfAttention,
      blockSize: options.blockSize,
      ropeTheta: options.ropeTheta ?? 10000,
      inject: options.inject,
      injectAt,
      injectContext,
    });
    x = options.recompute ? recompute(x, block) : block(x);
  }

  return g.scope('head', () => {
    // (shift, scale) = head.modulation + e: the time embedding itself, not e0, and no extra SiLU.
    const mod = add(w.param('head.modulation'), unsqueeze(e, [2])); // [B, F, 2, dim]
    const [shift, scale] = split(mod, [1, 1], 2) as [Tensor, Tensor];
    const y = w.linear('head.head', add(mul(layerNorm(x, null, null, { eps: cfg.eps }), add(scale, 1)), shift));
    return unpatchify(reshape(y, [B, grid.frames * S, y.shape[3]!]), grid, cfg.patch, cfg.outDim);
  });
}

export interface DitGridSize {
  batch: number;
  /** Latent frames. */
  frames: number;
  /** Latent height and width (before patching; multiples of the patch). */
  h: number;
  w: number;
}

export interface BuildDitOptions extends DitOptions {
  /** Activation dtype of latents, context and velocity (default float32); timesteps are float32 unless float64. */
  dtype?: DType;
}

/**
 * A graph with inputs `latents` [B, inDim, F, h, w], `timesteps` [B, F/pt], `context`
 * [B, textLen, textDim] and output `velocity` [B, outDim, F, h, w].
 */
export function buildDitGraph(cfg: DitConfig, provider: WeightProvider, size: DitGridSize, options: BuildDitOptions = {}): Graph {
  const dtype = options.dtype ?? 'float32';
  const g = new Graph('wan_dit');
  const latents = g.input('latents', dtype, [size.batch, cfg.inDim, size.frames, size.h, size.w]);
  const grid = tokenGrid(latents.shape, cfg.patch, 'buildDitGraph');
  const timesteps = g.input('timesteps', dtype === 'float64' ? 'float64' : 'float32', [size.batch, grid.frames]);
  const context = g.input('context', dtype, [size.batch, cfg.textLen, cfg.textDim]);
  g.output(ditForward(g, cfg, provider, { latents, timesteps, context }, options), 'velocity');
  return g;
}
