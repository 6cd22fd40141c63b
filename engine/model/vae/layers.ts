// The Wan2.2 VAE's basic layers (vae2_2.py; wan2.2-ti2v-5b.md §2.1): channel RMS_norm, CausalConv3d
// with an explicit temporal cache, ResidualBlock and the middle AttentionBlock. Tensors are
// [B, C, T, H, W]; parameter names are the official checkpoint names.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { silu } from '../../graph/ops/activations.js';
import { attention } from '../../graph/ops/attention.js';
import { conv } from '../../graph/ops/conv.js';
import { add, div, max, mul, sqrt } from '../../graph/ops/elementwise.js';
import { concat, narrow, pad, split } from '../../graph/ops/indexing.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { VaeContext } from './context.js';

/** Frames a temporal-kernel-3 causal conv keeps from the previous chunk (the reference's CACHE_T). */
export const CACHE_T = 2;

function check5d(op: string, x: Tensor): [number, number, number, number, number] {
  if (x.rank !== 5) throw new ShapeError(op, [x.shape], 'expects [batch, channels, frames, height, width]');
  return x.shape as [number, number, number, number, number];
}

/**
 * RMS_norm: F.normalize over channels (x / max(‖x‖₂, 1e-12)) · √C · gamma. gamma is (C,1,1,1) in 3D
 * blocks and (C,1,1) in the attention block; both apply per channel here. Written with primitives
 * (channels are axis 1, not the last axis that RMSNormalization normalises).
 */
export function rmsNormChannels(ctx: VaeContext, x: Tensor, gammaName: string, gammaShape: readonly number[]): Tensor {
  const [, c] = check5d('RMS_norm', x);
  const gamma = reshape(ctx.param(gammaName, gammaShape), [c, 1, 1, 1]);
  const norm = max(sqrt(reduceSum(mul(x, x), [1], true)), 1e-12);
  return mul(div(x, norm), mul(gamma, Math.sqrt(c)));
}

/**
 * CausalConv3d(cin → cout, kernel [kt, kh, kw]) with weight `${name}.weight`: kt−1 frames of causal
 * context in front (zeros on the first chunk, the cache after), symmetric spatial padding (k−1)/2.
 * Kernels with kt = 1 (the 1³ shortcuts and top-level convs) are per frame and keep no cache.
 */
export function causalConv3d(ctx: VaeContext, name: string, x: Tensor, cout: number, kernel: readonly [number, number, number]): Tensor {
  const [b, cin, t, h, w] = check5d('CausalConv3d', x);
  const [kt, kh, kw] = kernel;
  const weight = ctx.param(`${name}.weight`, [cout, cin, kt, kh, kw]);
  const bias = ctx.param(`${name}.bias`, [cout]);
  const [ph, pw] = [(kh - 1) / 2, (kw - 1) / 2];
  const spatialPads = [0, ph, pw, 0, ph, pw];
  if (kt === 1) return conv(x, weight, bias, { pads: spatialPads });
  if (kt !== CACHE_T + 1) throw new ShapeError('CausalConv3d', [x.shape, weight.shape], `temporal kernel ${kt} unsupported (the VAE uses 1 and ${CACHE_T + 1})`);
  const slot = ctx.cache(name, [b, cin, CACHE_T, h, w]);
  // The causal stream: previous context (zeros on the first chunk) followed by this chunk's frames.
  const stream = slot.prev ? concat([slot.prev, x], 2) : pad(x, [0, 0, CACHE_T, 0, 0, 0, 0, 0, 0, 0]);
  slot.store(narrow(stream, 2, t, CACHE_T));
  return conv(stream, weight, bias, { pads: spatialPads });
}

/**
 * ResidualBlock(cin → cout): RMS_norm → SiLU → conv3³ (residual.2) → RMS_norm → SiLU → conv3³
 * (residual.6), plus a 1³ conv shortcut when cin ≠ cout (which keeps no cache).
 */
export function residualBlock(ctx: VaeContext, prefix: string, x: Tensor, cout: number): Tensor {
  const [, cin] = check5d('ResidualBlock', x);
  const shortcut = cin !== cout ? causalConv3d(ctx, `${prefix}.shortcut`, x, cout, [1, 1, 1]) : x;
  let y = silu(rmsNormChannels(ctx, x, `${prefix}.residual.0.gamma`, [cin, 1, 1, 1]));
  y = causalConv3d(ctx, `${prefix}.residual.2`, y, cout, [3, 3, 3]);
  y = silu(rmsNormChannels(ctx, y, `${prefix}.residual.3.gamma`, [cout, 1, 1, 1]));
  y = causalConv3d(ctx, `${prefix}.residual.6`, y, cout, [3, 3, 3]);
  return add(y, shortcut);
}

/**
 * The middle AttentionBlock, per frame: RMS_norm → 1×1 to_qkv (q, k, v = channel thirds) → one head
 * over the H·W positions of each frame, scale 1/√C → 1×1 proj → + x. Frames act as attention "heads",
 * so no frame ever attends to another and the block needs no cache.
 */
export function attentionBlock(ctx: VaeContext, prefix: string, x: Tensor): Tensor {
  const [b, c, t, h, w] = check5d('AttentionBlock', x);
  const y = rmsNormChannels(ctx, x, `${prefix}.norm.gamma`, [c, 1, 1]);
  const wQkv = reshape(ctx.param(`${prefix}.to_qkv.weight`, [3 * c, c, 1, 1]), [3 * c, c, 1, 1, 1]);
  const qkv = conv(y, wQkv, ctx.param(`${prefix}.to_qkv.bias`, [3 * c]));
  // [B, 3C, T, H·W] → [B, T, H·W, 3C], then the channel thirds.
  const tokens = transpose(reshape(qkv, [b, 3 * c, t, h * w]), [0, 2, 3, 1]);
  const [q, k, v] = split(tokens, [c, c, c], 3) as [Tensor, Tensor, Tensor];
  const o = attention(q, k, v, { impl: ctx.opts.attention ?? 'naive' });
  const back = reshape(transpose(o, [0, 3, 1, 2]), [b, c, t, h, w]);
  const wProj = reshape(ctx.param(`${prefix}.proj.weight`, [c, c, 1, 1]), [c, c, 1, 1, 1]);
  return add(conv(back, wProj, ctx.param(`${prefix}.proj.bias`, [c])), x);
}
