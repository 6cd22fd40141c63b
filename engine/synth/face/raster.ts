// A tiny anti-aliased rasteriser for the avatar, in pure TypeScript (no native dependencies).
//
// Every shape is an implicit function F(u, v) in the shape's own ("local") coordinates, negative
// inside, mapped to the frame by an affine transform. For each pixel of the shape's bounding box F is
// sampled once at the pixel centre; its gradient comes from the neighbouring samples, so F / |∇F| is
// the signed distance to the edge in pixels and the coverage is clamp(0.5 − distance / feather).
// feather = 1 gives crisp anti-aliased edges, larger values soft ones (shading, blush). Colours are
// sRGB floats 0..255 in a Float32 RGB buffer, converted to RGB8 once per frame.

/** Local → pixel: x = a·u + b·v + e, y = c·u + d·v + f. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export type Rgb = readonly [number, number, number];
export type Implicit = (u: number, v: number) => number;
/** Writes the colour at local (u, v) into out[0..2]. */
export type PaintFn = (u: number, v: number, out: Float32Array) => void;

export interface Box {
  u0: number;
  v0: number;
  u1: number;
  v1: number;
}

export function invert(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, e: -(a * m.e + b * m.f), f: -(c * m.e + d * m.f) };
}

export class Canvas {
  readonly rgb: Float32Array;
  private grid = new Float32Array(0);
  private readonly col = new Float32Array(3);

  constructor(readonly size: number) {
    this.rgb = new Float32Array(size * size * 3);
  }

  /**
   * Blends `paint` over the shape F < 0 (bounded by `box` in local coordinates) with `opacity`.
   * `feather` is the width of the soft edge in pixels (≥ 1).
   */
  fill(F: Implicit, box: Box, m: Affine, paint: Rgb | PaintFn, opacity = 1, feather = 1): void {
    const n = this.size;
    // Pixel bounding box of the transformed local box, padded by the feather and the gradient stencil.
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const [u, v] of [
      [box.u0, box.v0],
      [box.u1, box.v0],
      [box.u0, box.v1],
      [box.u1, box.v1],
    ] as const) {
      const x = m.a * u + m.b * v + m.e;
      const y = m.c * u + m.d * v + m.f;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
    const pad = Math.ceil(feather) + 1;
    const gx0 = Math.max(0, Math.floor(x0) - pad);
    const gy0 = Math.max(0, Math.floor(y0) - pad);
    const gx1 = Math.min(n, Math.ceil(x1) + pad);
    const gy1 = Math.min(n, Math.ceil(y1) + pad);
    if (gx1 <= gx0 || gy1 <= gy0) return;
    // Sample F on the box plus a one-pixel border (clamped at the canvas edge) for the gradient.
    const sx0 = Math.max(0, gx0 - 1);
    const sy0 = Math.max(0, gy0 - 1);
    const sx1 = Math.min(n, gx1 + 1);
    const sy1 = Math.min(n, gy1 + 1);
    const w = sx1 - sx0;
    const h = sy1 - sy0;
    if (this.grid.length < w * h) this.grid = new Float32Array(w * h * 2);
    const g = this.grid;
    const inv = invert(m);
    for (let y = sy0; y < sy1; y++) {
      const py = y + 0.5;
      const row = (y - sy0) * w;
      for (let x = sx0; x < sx1; x++) {
        const px = x + 0.5;
        g[row + x - sx0] = F(inv.a * px + inv.b * py + inv.e, inv.c * px + inv.d * py + inv.f);
      }
    }
    const solid = typeof paint === 'function' ? null : paint;
    const col = this.col;
    const rgb = this.rgb;
    const invFeather = 1 / feather;
    for (let y = gy0; y < gy1; y++) {
      const gy = y - sy0;
      const up = gy > 0 ? gy - 1 : gy;
      const dn = gy < h - 1 ? gy + 1 : gy;
      for (let x = gx0; x < gx1; x++) {
        const gxi = x - sx0;
        const f = g[gy * w + gxi]!;
        const lf = gxi > 0 ? gxi - 1 : gxi;
        const rt = gxi < w - 1 ? gxi + 1 : gxi;
        const dx = (g[gy * w + rt]! - g[gy * w + lf]!) / (rt - lf || 1);
        const dy = (g[dn * w + gxi]! - g[up * w + gxi]!) / (dn - up || 1);
        const grad = Math.sqrt(dx * dx + dy * dy);
        let cov: number;
        if (grad > 1e-9) {
          cov = 0.5 - (f / grad) * invFeather;
          if (cov <= 0) continue;
          if (cov > 1) cov = 1;
        } else {
          if (f >= 0) continue;
          cov = 1;
        }
        const alpha = cov * opacity;
        const i = (y * n + x) * 3;
        if (solid) {
          col[0] = solid[0];
          col[1] = solid[1];
          col[2] = solid[2];
        } else {
          const px = x + 0.5;
          const py = y + 0.5;
          (paint as PaintFn)(inv.a * px + inv.b * py + inv.e, inv.c * px + inv.d * py + inv.f, col);
        }
        rgb[i] = rgb[i]! + (col[0]! - rgb[i]!) * alpha;
        rgb[i + 1] = rgb[i + 1]! + (col[1]! - rgb[i + 1]!) * alpha;
        rgb[i + 2] = rgb[i + 2]! + (col[2]! - rgb[i + 2]!) * alpha;
      }
    }
  }

  /** The frame as RGB8. */
  toRgb8(out: Uint8Array = new Uint8Array(this.size * this.size * 3)): Uint8Array {
    const s = this.rgb;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
    return out;
  }
}

// ---- implicit shapes (distance-like near their edges) ----

/** Ellipse centred at (cx, cy) with radii rx, ry, rotated by `angle`. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0): Implicit {
  const cs = Math.cos(angle);
  const sn = Math.sin(angle);
  // Scaled by the smaller radius so F is close to a distance near the edge.
  const k = Math.min(rx, ry);
  return (u, v) => {
    const du = u - cx;
    const dv = v - cy;
    const a = (du * cs + dv * sn) / rx;
    const b = (-du * sn + dv * cs) / ry;
    return (Math.sqrt(a * a + b * b) - 1) * k;
  };
}

export function ellipseBox(cx: number, cy: number, rx: number, ry: number): Box {
  const r = Math.max(rx, ry);
  return { u0: cx - r, v0: cy - r, u1: cx + r, v1: cy + r };
}

/** A stroke of half-width `hw` along the parabola through (u0, v0), (um, vm), (u1, v1) for u in [u0, u1]. */
export function curveStroke(u0: number, v0: number, um: number, vm: number, u1: number, v1: number, hw: number, taper = 0): Implicit {
  // Quadratic through the three points (Lagrange form), as v = c(u).
  const l0 = (u: number): number => ((u - um) * (u - u1)) / ((u0 - um) * (u0 - u1));
  const lm = (u: number): number => ((u - u0) * (u - u1)) / ((um - u0) * (um - u1));
  const l1 = (u: number): number => ((u - u0) * (u - um)) / ((u1 - u0) * (u1 - um));
  const mid = (u0 + u1) / 2;
  const half = (u1 - u0) / 2;
  return (u, v) => {
    const uc = Math.min(u1, Math.max(u0, u));
    const c = v0 * l0(uc) + vm * lm(uc) + v1 * l1(uc);
    const e = 1e-3;
    const slope = (v0 * l0(uc + e) + vm * lm(uc + e) + v1 * l1(uc + e) - c) / e;
    const across = Math.abs(v - c) / Math.sqrt(1 + slope * slope);
    const along = Math.abs(u - mid) - half;
    // Tapered ends: the half-width shrinks towards the ends.
    const t = 1 - taper * Math.pow(Math.min(1, Math.abs(uc - mid) / half), 2);
    const stroke = across - hw * t;
    return along > 0 ? Math.max(stroke, Math.hypot(along, Math.max(0, across)) - hw * t) : stroke;
  };
}

export const union = (a: Implicit, b: Implicit): Implicit => (u, v) => Math.min(a(u, v), b(u, v));
export const intersect = (a: Implicit, b: Implicit): Implicit => (u, v) => Math.max(a(u, v), b(u, v));
export const subtract = (a: Implicit, b: Implicit): Implicit => (u, v) => Math.max(a(u, v), -b(u, v));

export function mix(a: Rgb, b: Rgb, t: number): [number, number, number] {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(a: Rgb, k: number): [number, number, number] {
  return [a[0] * k, a[1] * k, a[2] * k];
}
