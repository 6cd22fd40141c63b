// Wan2.2 VAE Resample (vae2_2.py `Resample`; wan2.2-ti2v-5b.md §2.1, §2.3). The spatial part runs per
// frame as a (1,3,3) Conv3d over [B, C, T, H, W]; the temporal part is the `time_conv`.
//
// Chunked semantics, and the whole-clip form they equal ('first' mode over a whole clip):
// - downsample3d: frame 0 passes through untouched; every later output is time_conv (kernel 3,
//   stride 2, no padding) over [previous frame, two new frames]. Whole clip x0..x2n:
//   [x0, tc(x0,x1,x2), tc(x2,x3,x4), ...]. Cache: the last spatially downsampled frame.
// - upsample3d: frame 0 passes through; frames 1.. go through a causal time_conv (C → 2C, zero
//   padding in front of frame 1, NOT frame 0's context: the reference's "Rep" marker), and its two
//   C-channel halves become two consecutive frames (2t ← half 0, 2t+1 ← half 1). Cache: the last 2
//   frames of the frame-1-onward stream (zeros after the first chunk).
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { conv } from '../../graph/ops/conv.js';
import { concat, narrow, pad, zeros } from '../../graph/ops/indexing.js';
import { upsampleNearestResize } from '../../graph/ops/resize.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { VaeContext } from './context.js';
import { CACHE_T } from './layers.js';

export type ResampleMode = 'downsample2d' | 'downsample3d' | 'upsample2d' | 'upsample3d';

/** A Conv2d [C, C, 3, 3] weight applied to every frame as a (1,3,3) Conv3d. */
function frameConv(ctx: VaeContext, name: string, x: Tensor, pads: readonly number[], strides: readonly number[]): Tensor {
  const c = x.shape[1]!;
  const w = reshape(ctx.param(`${name}.weight`, [c, c, 3, 3]), [c, c, 1, 3, 3]);
  return conv(x, w, ctx.param(`${name}.bias`, [c]), { pads, strides });
}

/** ZeroPad2d (left 0, right 1, top 0, bottom 1), then a 3×3 stride-2 conv: H, W halve. */
function spatialDown(ctx: VaeContext, prefix: string, x: Tensor): Tensor {
  const [, , , h, w] = x.shape as [number, number, number, number, number];
  if (h % 2 !== 0 || w % 2 !== 0) throw new ShapeError('Resample', [x.shape], `downsampling needs even height and width, got ${h}x${w}`);
  // An explicit Pad keeps the conv's own padding symmetric (zero), which every execution provider runs.
  const padded = pad(x, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  return frameConv(ctx, `${prefix}.resample.1`, padded, [0, 0, 0, 0, 0, 0], [1, 2, 2]);
}

/** Nearest(-exact) ×2 on H and W, then a 3×3 conv with padding 1. */
function spatialUp(ctx: VaeContext, prefix: string, x: Tensor): Tensor {
  return frameConv(ctx, `${prefix}.resample.1`, upsampleNearestResize(x, [2, 2]), [0, 1, 1, 0, 1, 1], [1, 1, 1]);
}

/** downsample3d's time_conv: (3,1,1) kernel, stride 2 in time, with its 1-frame cache. */
function timeDown(ctx: VaeContext, prefix: string, y: Tensor): Tensor {
  const [b, c, t, h, w] = y.shape as [number, number, number, number, number];
  const name = `${prefix}.time_conv`;
  const weight = ctx.param(`${name}.weight`, [c, c, 3, 1, 1]);
  const bias = ctx.param(`${name}.bias`, [c]);
  const slot = ctx.cache(name, [b, c, 1, h, w]);
  slot.store(narrow(y, 2, t - 1, 1));
  if (!slot.prev) {
    // First chunk / whole clip: frame 0 alone, then stride-2 windows starting at frame 0.
    if (t % 2 !== 1) throw new ShapeError('Resample', [y.shape], `downsample3d on a first chunk needs an odd frame count (1 + 2k), got ${t}`);
    if (t === 1) return y;
    return concat([narrow(y, 2, 0, 1), conv(y, weight, bias, { strides: [2, 1, 1] })], 2);
  }
  if (t % 2 !== 0) throw new ShapeError('Resample', [y.shape], `downsample3d on a later chunk needs an even frame count, got ${t}`);
  return conv(concat([slot.prev, y], 2), weight, bias, { strides: [2, 1, 1] });
}

/** [B, 2C, T, H, W] → [B, C, 2T, H, W]: frame 2t from channels [0, C), frame 2t+1 from [C, 2C). */
function interleaveHalves(x: Tensor): Tensor {
  const [b, c2, t, h, w] = x.shape as [number, number, number, number, number];
  const c = c2 / 2;
  return reshape(transpose(reshape(x, [b, 2, c, t, h, w]), [0, 2, 3, 1, 4, 5]), [b, c, 2 * t, h, w]);
}

/** upsample3d's time_conv: causal (3,1,1) conv C → 2C over frames 1.., halves interleaved as frames. */
function timeUp(ctx: VaeContext, prefix: string, x: Tensor): Tensor {
  const [b, c, t, h, w] = x.shape as [number, number, number, number, number];
  const name = `${prefix}.time_conv`;
  const weight = ctx.param(`${name}.weight`, [2 * c, c, 3, 1, 1]);
  const bias = ctx.param(`${name}.bias`, [2 * c]);
  const slot = ctx.cache(name, [b, c, CACHE_T, h, w]);
  if (!slot.prev) {
    // Frame 0 skips the time_conv; the rest start from zero context.
    if (t === 1) {
      slot.store(zeros(x, [b, c, CACHE_T, h, w]));
      return x;
    }
    const stream = pad(narrow(x, 2, 1, t - 1), [0, 0, CACHE_T, 0, 0, 0, 0, 0, 0, 0]);
    slot.store(narrow(stream, 2, t - 1, CACHE_T));
    return concat([narrow(x, 2, 0, 1), interleaveHalves(conv(stream, weight, bias))], 2);
  }
  const stream = concat([slot.prev, x], 2);
  slot.store(narrow(stream, 2, t, CACHE_T));
  return interleaveHalves(conv(stream, weight, bias));
}

/** Resample `${prefix}` (resample.1 and, for the 3d modes, time_conv) in the given mode. */
export function resample(ctx: VaeContext, prefix: string, x: Tensor, mode: ResampleMode): Tensor {
  if (x.rank !== 5) throw new ShapeError('Resample', [x.shape], 'expects [batch, channels, frames, height, width]');
  switch (mode) {
    case 'downsample2d':
      return spatialDown(ctx, prefix, x);
    case 'downsample3d':
      return timeDown(ctx, prefix, spatialDown(ctx, prefix, x));
    case 'upsample2d':
      return spatialUp(ctx, prefix, x);
    case 'upsample3d':
      return spatialUp(ctx, prefix, timeUp(ctx, prefix, x));
  }
}
