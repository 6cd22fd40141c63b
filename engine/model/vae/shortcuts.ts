// The parameter-free shortcuts around each Wan2.2 down/up stage (vae2_2.py `AvgDown3D`, `DupUp3D`).
// Both act on each chunk on its own (no cache): AvgDown3D pairs frames within a chunk (a first chunk's
// odd frame count gets one zero frame in front), DupUp3D turns each frame into ft frames.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { narrow, pad } from '../../graph/ops/indexing.js';
import { reduceMean } from '../../graph/ops/reduce.js';
import { expandTo, reshape, transpose } from '../../graph/ops/shape.js';

function dims5(op: string, x: Tensor): [number, number, number, number, number] {
  if (x.rank !== 5) throw new ShapeError(op, [x.shape], 'expects [batch, channels, frames, height, width]');
  return x.shape as [number, number, number, number, number];
}

/**
 * AvgDown3D(cin → cout, ft, fs): front-pad time with zeros to a multiple of ft (only a first chunk may
 * need it), space/time-to-depth into C·ft·fs² channels ordered (c, dt, dh, dw), then the mean of each
 * run of C·ft·fs²/cout consecutive channels. With ft = fs = 1 and cin = cout it is the identity.
 */
export function avgDown3d(x: Tensor, cout: number, ft: number, fs: number, first: boolean): Tensor {
  const [b, c, t0, h, w] = dims5('AvgDown3D', x);
  const factor = ft * fs * fs;
  if ((c * factor) % cout !== 0) throw new ShapeError('AvgDown3D', [x.shape], `${c}·${factor} channels do not split into ${cout} groups`);
  if (h % fs !== 0 || w % fs !== 0) throw new ShapeError('AvgDown3D', [x.shape], `height ${h} and width ${w} must be multiples of ${fs}`);
  const group = (c * factor) / cout;
  if (factor === 1 && group === 1) return x;
  const padT = (ft - (t0 % ft)) % ft;
  if (padT > 0 && !first) throw new ShapeError('AvgDown3D', [x.shape], `a later chunk needs a frame count divisible by ${ft}, got ${t0}`);
  let y = padT > 0 ? pad(x, [0, 0, padT, 0, 0, 0, 0, 0, 0, 0]) : x;
  const t = t0 + padT;
  const [t2, h2, w2] = [t / ft, h / fs, w / fs];
  // [B·C, T', ft, H', fs, W', fs] → [B·C, ft, fs, fs, T', H', W'] (batch merged to stay at rank 7).
  y = transpose(reshape(y, [b * c, t2, ft, h2, fs, w2, fs]), [0, 2, 4, 6, 1, 3, 5]);
  y = reshape(y, [b, cout, group, t2, h2, w2]);
  return reduceMean(y, [2], false);
}

/**
 * DupUp3D(cin → cout, ft, fs): repeat each channel cout·ft·fs²/cin times (repeat_interleave), then
 * depth-to-space/time with the (c, dt, dh, dw) channel order. On a first chunk the first ft−1 output
 * frames are dropped, so one input frame gives one output frame there.
 */
export function dupUp3d(x: Tensor, cout: number, ft: number, fs: number, first: boolean): Tensor {
  const [b, c, t, h, w] = dims5('DupUp3D', x);
  const factor = ft * fs * fs;
  if ((cout * factor) % c !== 0) throw new ShapeError('DupUp3D', [x.shape], `${cout}·${factor} channels are not a multiple of the ${c} input channels`);
  const repeats = (cout * factor) / c;
  let y = reshape(expandTo(reshape(x, [b, c, 1, t, h, w]), [b, c, repeats, t, h, w]), [b * cout, ft, fs, fs, t, h, w]);
  // [B·C', ft, fs, fs, T, H, W] → [B·C', T, ft, H, fs, W, fs]
  y = reshape(transpose(y, [0, 4, 1, 5, 2, 6, 3]), [b, cout, t * ft, h * fs, w * fs]);
  return first && ft > 1 ? narrow(y, 2, ft - 1, t * ft - (ft - 1)) : y;
}
