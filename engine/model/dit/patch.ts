// Patchify and unpatchify for the Wan DiT (wan2.2-ti2v-5b.md §1.2, §1.4), as Reshape → Transpose →
// Reshape. The two layouts differ and both are Wan's:
//   patchify (Conv3d kernel = stride = patch): token f·(h·w) + y·w + x holds the flattened
//     (c, kt, kh, kw) patch, kw fastest, which is the flattening of the Conv3d weight [dim, c, kt, kh, kw];
//   unpatchify (einsum 'fhwpqrc->cfphqwr'): token value ((pt·ph_n + ph)·pw_n + pw)·C + c, c FASTEST,
//     lands at out[c, f·pt_n + pt, y·ph_n + ph, x·pw_n + pw].
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { LatentGrid } from './rope.js';

/**
 * Reshapes x to `sizes` (labelled axes), permutes them to `order` and reshapes to `outShape`. Axes of
 * size 1 are left out of the Transpose: its rank stays ≤ 6 for Wan's (1,2,2) patch with batch 1, well
 * inside what every execution provider's Transpose accepts.
 */
function relayout(x: Tensor, labels: readonly string[], sizes: readonly number[], order: readonly string[], outShape: readonly number[]): Tensor {
  const kept = labels.filter((_, i) => sizes[i] !== 1);
  const keptSizes = sizes.filter((s) => s !== 1);
  const keptOrder = order.filter((l) => kept.includes(l));
  const y = transpose(reshape(x, keptSizes), keptOrder.map((l) => kept.indexOf(l)));
  return reshape(y, outShape);
}

/** The token grid of latents [B, C, F, H, W] for a patch (pt, ph, pw); throws when it does not divide. */
export function tokenGrid(latentShape: readonly number[], patch: readonly [number, number, number], op = 'PatchEmbedding'): LatentGrid {
  const [, , F, H, W] = latentShape as [number, number, number, number, number];
  const [pt, ph, pw] = patch;
  if (latentShape.length !== 5 || F % pt !== 0 || H % ph !== 0 || W % pw !== 0) {
    throw new ShapeError(op, [latentShape, patch], `latents must be [batch, channels, frames, height, width] with frames, height, width divisible by the patch (${patch.join(',')})`);
  }
  return { frames: F / pt, h: H / ph, w: W / pw };
}

/**
 * latents [B, C, F, H, W] → patches [B, L, C·pt·ph·pw], L = (F/pt)·(H/ph)·(W/pw), token order
 * f·(h·w) + y·w + x, each patch flattened (c, kt, kh, kw) with kw fastest (the Conv3d weight order).
 */
export function patchify(latents: Tensor, patch: readonly [number, number, number]): Tensor {
  const grid = tokenGrid(latents.shape, patch);
  const [B, C] = latents.shape as [number, number];
  const [pt, ph, pw] = patch;
  return relayout(
    latents,
    ['b', 'c', 'f', 'kt', 'h', 'kh', 'w', 'kw'],
    [B, C, grid.frames, pt, grid.h, ph, grid.w, pw],
    ['b', 'f', 'h', 'w', 'c', 'kt', 'kh', 'kw'],
    [B, grid.frames * grid.h * grid.w, C * pt * ph * pw],
  );
}

/**
 * tokens [B, L, pt·ph·pw·C] → [B, C, F, H, W] with
 * out[b, c, f·pt + p, y·ph + q, x·pw + r] = tokens[b, f·(h·w) + y·w + x, ((p·ph + q)·pw + r)·C + c].
 */
export function unpatchify(tokens: Tensor, grid: LatentGrid, patch: readonly [number, number, number], channels: number): Tensor {
  const [pt, ph, pw] = patch;
  const L = grid.frames * grid.h * grid.w;
  const [B, tl, width] = tokens.shape as [number, number, number];
  if (tokens.rank !== 3 || tl !== L || width !== pt * ph * pw * channels) {
    throw new ShapeError('Unpatchify', [tokens.shape, [grid.frames, grid.h, grid.w]], `tokens must be [batch, ${L}, ${pt * ph * pw * channels}] (patch ${patch.join('x')} × ${channels} channels)`);
  }
  return relayout(
    tokens,
    ['b', 'f', 'h', 'w', 'p', 'q', 'r', 'c'],
    [B, grid.frames, grid.h, grid.w, pt, ph, pw, channels],
    ['b', 'c', 'f', 'p', 'h', 'q', 'w', 'r'],
    [B, channels, grid.frames * pt, grid.h * ph, grid.w * pw],
  );
}
