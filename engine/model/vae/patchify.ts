// Wan2.2's pixel space-to-depth (vae2_2.py `patchify`/`unpatchify`, wan2.2-ti2v-5b.md §2.1):
//   "b c f (h q) (w r) -> b (c r q) f h w"
// so output channel = c·p² + r·p + q, where r is the WIDTH sub-offset and q the HEIGHT sub-offset
// (note r before q: the width offset is the slower of the two).
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { reshape, transpose } from '../../graph/ops/shape.js';

/** [B, C, T, H, W] → [B, C·p·p, T, H/p, W/p] with channel order (c, r, q). */
export function patchify(x: Tensor, p: number): Tensor {
  if (x.rank !== 5) throw new ShapeError('patchify', [x.shape], 'expects [batch, channels, frames, height, width]');
  if (p === 1) return x;
  const [b, c, t, hp, wp] = x.shape as [number, number, number, number, number];
  if (hp % p !== 0 || wp % p !== 0) throw new ShapeError('patchify', [x.shape], `height ${hp} and width ${wp} must be multiples of the patch size ${p}`);
  const [h, w] = [hp / p, wp / p];
  // axes: 0 b, 1 c, 2 t, 3 h, 4 q, 5 w, 6 r  →  b, c, r, q, t, h, w
  const y = transpose(reshape(x, [b, c, t, h, p, w, p]), [0, 1, 6, 4, 2, 3, 5]);
  return reshape(y, [b, c * p * p, t, h, w]);
}

/** The exact inverse: [B, C·p·p, T, h, w] → [B, C, T, h·p, w·p]. */
export function unpatchify(x: Tensor, p: number): Tensor {
  if (x.rank !== 5) throw new ShapeError('unpatchify', [x.shape], 'expects [batch, channels, frames, height, width]');
  if (p === 1) return x;
  const [b, cpp, t, h, w] = x.shape as [number, number, number, number, number];
  if (cpp % (p * p) !== 0) throw new ShapeError('unpatchify', [x.shape], `channels ${cpp} must be a multiple of patch² = ${p * p}`);
  const c = cpp / (p * p);
  // axes: 0 b, 1 c, 2 r, 3 q, 4 t, 5 h, 6 w  →  b, c, t, h, q, w, r
  const y = transpose(reshape(x, [b, c, p, p, t, h, w]), [0, 1, 4, 5, 3, 6, 2]);
  return reshape(y, [b, c, t, h * p, w * p]);
}
