// Wan's 3D rotary position embedding (wan2.2-ti2v-5b.md §1.3; W22 model.py rope_params/rope_apply).
//
// The head dim d is read as d/2 complex pairs of ADJACENT values (x[2j], x[2j+1]). The pairs are cut
// into three runs: temporal (d_t/2 pairs), height (d_h/2) and width (d_w/2), with
// d_t = d − 4⌊d/6⌋ and d_h = d_w = 2⌊d/6⌋ (44/42/42 for d = 128). Pair j of a run of width n
// (n = d_t, d_h or d_w) turns by pos·theta^(−2j/n), where pos is the token's integer latent-grid index
// (f, y or x, from 0). Each run restarts j at 0, exactly as Wan concatenates three rope_params tables.
//
// The tables are computed here in float64 (Wan computes them in float64 complex too) and stored as
// constants of the graph's dtype; applying them is x·C + swap(x)·S with
//   C[2j] = C[2j+1] = cos θ_j,  S[2j] = −sin θ_j,  S[2j+1] = +sin θ_j,  swap(x)[2j] = x[2j+1], swap(x)[2j+1] = x[2j]
// which is (a, b) → (a cosθ − b sinθ, a sinθ + b cosθ) on every pair.
import type { Graph, Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { ShapeError } from '../../graph/errors.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import { concat, split } from '../../graph/ops/indexing.js';
import { reshape } from '../../graph/ops/shape.js';

export interface RopeSplit {
  /** Widths (in values, not pairs) of the temporal, height and width runs; they add up to headDim. */
  t: number;
  h: number;
  w: number;
}

/** d_t = d − 4⌊d/6⌋, d_h = d_w = 2⌊d/6⌋ (Wan's WanModel.__init__ freqs). */
export function ropeSplit(headDim: number): RopeSplit {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new ShapeError('RoPE', [[headDim]], `head dim ${headDim} must be a positive even integer`);
  }
  const hw = 2 * Math.floor(headDim / 6);
  return { t: headDim - 2 * hw, h: hw, w: hw };
}

export interface LatentGrid {
  /** Token-grid frames, height and width (after patching). */
  frames: number;
  h: number;
  w: number;
}

/**
 * The rotation angle of every (token, pair), token = f·(h·w) + y·w + x, as a float64 array
 * [L, headDim/2]. Exposed so tests can check it against a hand example.
 */
export function ropeAngles(grid: LatentGrid, headDim: number, theta = 10000): Float64Array {
  const s = ropeSplit(headDim);
  const half = headDim / 2;
  const runs: { pairs: number; width: number; axis: 0 | 1 | 2 }[] = [
    { pairs: s.t / 2, width: s.t, axis: 0 },
    { pairs: s.h / 2, width: s.h, axis: 1 },
    { pairs: s.w / 2, width: s.w, axis: 2 },
  ];
  // Per pair: which grid axis it follows and its frequency theta^(−2j/width).
  const axisOf: number[] = [];
  const freqOf: number[] = [];
  for (const r of runs) {
    for (let j = 0; j < r.pairs; j++) {
      axisOf.push(r.axis);
      freqOf.push(1 / Math.pow(theta, (2 * j) / r.width));
    }
  }
  const L = grid.frames * grid.h * grid.w;
  const out = new Float64Array(L * half);
  for (let f = 0; f < grid.frames; f++) {
    for (let y = 0; y < grid.h; y++) {
      for (let x = 0; x < grid.w; x++) {
        const tok = f * grid.h * grid.w + y * grid.w + x;
        const pos = [f, y, x];
        for (let p = 0; p < half; p++) out[tok * half + p] = pos[axisOf[p]!]! * freqOf[p]!;
      }
    }
  }
  return out;
}

/** C and S tables [L, 1, headDim/2, 2] (see the header), float64 on the host. */
export function ropeTables(grid: LatentGrid, headDim: number, theta = 10000): { cos: Float64Array; sin: Float64Array } {
  const ang = ropeAngles(grid, headDim, theta);
  const cos = new Float64Array(ang.length * 2);
  const sin = new Float64Array(ang.length * 2);
  for (let i = 0; i < ang.length; i++) {
    const c = Math.cos(ang[i]!);
    const s = Math.sin(ang[i]!);
    cos[2 * i] = c;
    cos[2 * i + 1] = c;
    sin[2 * i] = -s;
    sin[2 * i + 1] = s;
  }
  return { cos, sin };
}

// One pair of table constants per graph, grid, head dim and dtype: all blocks, q and k share them.
const tableCache = new WeakMap<Graph, Map<string, { cos: Tensor; sin: Tensor }>>();

function tableConstants(g: Graph, grid: LatentGrid, headDim: number, dtype: DType, theta: number): { cos: Tensor; sin: Tensor } {
  let m = tableCache.get(g);
  if (!m) tableCache.set(g, (m = new Map()));
  const key = `${grid.frames}x${grid.h}x${grid.w}|${headDim}|${dtype}|${theta}`;
  let t = m.get(key);
  if (!t) {
    const { cos, sin } = ropeTables(grid, headDim, theta);
    const shape = [grid.frames * grid.h * grid.w, 1, headDim / 2, 2];
    t = { cos: g.constant(dtype, shape, cos), sin: g.constant(dtype, shape, sin) };
    m.set(key, t);
  }
  return t;
}

/**
 * Rotates x [B, L, heads·headDim] (heads packed on the last axis, the layout q and k have after their
 * projection and RMSNorm) and returns the same layout. L must be the grid's token count.
 */
export function applyRope(x: Tensor, grid: LatentGrid, heads: number, theta = 10000): Tensor {
  const [b, L, dim] = x.shape as [number, number, number];
  const tokens = grid.frames * grid.h * grid.w;
  if (x.rank !== 3 || L !== tokens || dim % heads !== 0) {
    throw new ShapeError('RoPE', [x.shape, [grid.frames, grid.h, grid.w]], `x must be [batch, ${tokens} tokens (f·h·w), heads·head_dim] with ${heads} heads`);
  }
  const headDim = dim / heads;
  ropeSplit(headDim);
  const { cos, sin } = tableConstants(x.graph, grid, headDim, x.dtype, theta);
  const pairs = reshape(x, [b, L, heads, headDim / 2, 2]);
  const [a, bb] = split(pairs, [1, 1], 4) as [Tensor, Tensor];
  const swapped = concat([bb, a], 4);
  return reshape(add(mul(pairs, cos), mul(swapped, sin)), [b, L, dim]);
}
