// Head pose → affine transforms (a 2.5-D head: small yaw and pitch shift features by their depth and
// squash the outline a little; roll turns the head about the neck), and ellipses through them.
import type { Ellipse } from '../types.js';
import type { Identity } from './identity.js';
import type { Affine } from './raster.js';

export interface HeadPose {
  /** Degrees. */
  yaw: number;
  pitch: number;
  roll: number;
}

const DEG = Math.PI / 180;

/** Local → pixel for a layer at `depth` (0 = face outline, > 0 towards the viewer, < 0 behind). */
export function headAffine(idn: Identity, size: number, pose: HeadPose, depth: number): Affine {
  const s = idn.scale * size;
  const hx = idn.cx * size;
  const hy = idn.cy * size;
  const sy = Math.sin(pose.yaw * DEG);
  const sp = Math.sin(pose.pitch * DEG);
  const sxScale = 1 - 0.25 * Math.abs(sy);
  const syScale = 1 - 0.2 * Math.abs(sp);
  // The head turns about the neck, so it also shifts a little with each angle.
  const nx = hx;
  const ny = hy + 1.25 * s;
  const tx = sy * 0.8 * s;
  const ty = -sp * 0.6 * s;
  const cr = Math.cos(pose.roll * DEG);
  const sr = Math.sin(pose.roll * DEG);
  const a = s * cr * sxScale;
  const b = -s * sr * syScale;
  const c = s * sr * sxScale;
  const d = s * cr * syScale;
  const du = depth * sy;
  const dv = -depth * sp;
  const ox = hx - nx + tx;
  const oy = hy - ny + ty;
  return {
    a,
    b,
    c,
    d,
    e: nx + cr * ox - sr * oy + a * du + b * dv,
    f: ny + sr * ox + cr * oy + c * du + d * dv,
  };
}

/** The still body (neck, shoulders): the head's scale and place without pose. */
export function bodyAffine(idn: Identity, size: number): Affine {
  const s = idn.scale * size;
  return { a: s, b: 0, c: 0, d: s, e: idn.cx * size, f: idn.cy * size };
}

/** The image of a local axis-aligned ellipse under `m`, as a pixel Ellipse. */
export function transformEllipse(m: Affine, cx: number, cy: number, rx: number, ry: number): Ellipse {
  const j00 = m.a * rx;
  const j01 = m.b * ry;
  const j10 = m.c * rx;
  const j11 = m.d * ry;
  // J·Jᵀ's eigen-decomposition gives the axes of J's image of the unit circle.
  const p = j00 * j00 + j01 * j01;
  const q = j00 * j10 + j01 * j11;
  const r = j10 * j10 + j11 * j11;
  const mean = (p + r) / 2;
  const diff = Math.sqrt(((p - r) / 2) ** 2 + q * q);
  const angle = 0.5 * Math.atan2(2 * q, p - r);
  return {
    cx: m.a * cx + m.b * cy + m.e,
    cy: m.c * cx + m.d * cy + m.f,
    rx: Math.sqrt(mean + diff),
    ry: Math.sqrt(Math.max(0, mean - diff)),
    angle,
  };
}
