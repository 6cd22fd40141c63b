// Lip and face masks from the truth ellipses: anti-aliased coverage (0..1) on a square grid, the same
// edge rule as the avatar's rasteriser, so a mask lines up with the pixels it describes.
import type { Ellipse } from './types.js';

/** Coverage of `e` on a size × size grid (row-major), 1 inside, 0 outside, fractional on the edge. */
export function rasterizeEllipse(e: Ellipse, size: number): Float32Array {
  const out = new Float32Array(size * size);
  if (!(e.rx > 0 && e.ry > 0)) return out;
  const cs = Math.cos(e.angle);
  const sn = Math.sin(e.angle);
  const r = Math.max(e.rx, e.ry) + 1;
  const x0 = Math.max(0, Math.floor(e.cx - r));
  const x1 = Math.min(size, Math.ceil(e.cx + r));
  const y0 = Math.max(0, Math.floor(e.cy - r));
  const y1 = Math.min(size, Math.ceil(e.cy + r));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - e.cx;
      const dy = y + 0.5 - e.cy;
      const a = (dx * cs + dy * sn) / e.rx;
      const b = (-dx * sn + dy * cs) / e.ry;
      const q = Math.sqrt(a * a + b * b);
      // Distance to the edge ≈ (q − 1) / |∇q|, in pixels.
      const ga = (a * cs) / e.rx - (b * sn) / e.ry;
      const gb = (a * sn) / e.rx + (b * cs) / e.ry;
      const grad = Math.sqrt(ga * ga + gb * gb) / Math.max(q, 1e-9);
      const cov = grad > 1e-9 ? 0.5 - (q - 1) / grad : q < 1 ? 1 : 0;
      out[y * size + x] = cov <= 0 ? 0 : cov >= 1 ? 1 : cov;
    }
  }
  return out;
}

/** The ellipse in a frame resized by `factor` (e.g. 0.5 for 256 → 128 pixels): every length scales. */
export function scaleEllipse(e: Ellipse, factor: number): Ellipse {
  return { cx: e.cx * factor, cy: e.cy * factor, rx: e.rx * factor, ry: e.ry * factor, angle: e.angle };
}

/** The same ellipse with its radii multiplied by `factor` about its centre (a margin around a mask). */
export function growEllipse(e: Ellipse, factor: number): Ellipse {
  return { ...e, rx: e.rx * factor, ry: e.ry * factor };
}
