// Draws one frame of an identity: background, body, hair, head, ears, eyes (whites, iris, pupil,
// lids, blink), brows, nose shading, and a mouth whose opening, width and rounding follow the pose.
// Realistic proportions, eye whites and nose shading matter beyond looks: face-landmark models
// (FaceMesh) must find these faces, because clip preparation and evaluation rely on them.
import type { Ellipse } from '../types.js';
import type { HeadPose } from './geometry.js';
import { bodyAffine, headAffine, transformEllipse } from './geometry.js';
import type { Identity } from './identity.js';
import type { Affine, Implicit, PaintFn, Rgb } from './raster.js';
import { Canvas, curveStroke, ellipse, ellipseBox, intersect, mix, scale, subtract, union } from './raster.js';

export interface FacePose extends HeadPose {
  /** Lip opening 0..1. */
  open: number;
  /** Mouth width −1..1. */
  width: number;
  /** Lip rounding 0..1. */
  round: number;
  /** Brow raise 0..1. */
  brow: number;
  /** Eye closure 0..1. */
  blink: number;
}

export const NEUTRAL_POSE: FacePose = { open: 0, width: 0, round: 0, brow: 0, yaw: 0, pitch: 0, roll: 0, blink: 0 };

/** Depth of each layer for the 2.5-D parallax (head-local units). */
const DEPTH = { backHair: -0.35, ears: -0.2, head: 0, hair: 0.03, eyes: 0.06, brows: 0.09, mouth: 0.16, nose: 0.3 } as const;

/** Largest lip opening in head-local units (the jaw drop at open = 1). */
const MAX_OPEN = 0.26;

interface MouthGeometry {
  cy: number;
  /** Half-width of the outer lips. */
  w: number;
  /** Opening (inner height). */
  o: number;
  upper: number;
  lower: number;
}

function mouthGeometry(idn: Identity, pose: FacePose): MouthGeometry {
  const w = idn.mouthWidth * (1 + 0.22 * pose.width - 0.28 * pose.round);
  const o = MAX_OPEN * pose.open;
  const t = idn.lipThickness * (0.9 + 0.35 * pose.round);
  return { cy: idn.mouthY, w, o, upper: t * 0.85, lower: t * 1.1 };
}

function box(u0: number, v0: number, u1: number, v1: number): { u0: number; v0: number; u1: number; v1: number } {
  return { u0, v0, u1, v1 };
}

export class AvatarRenderer {
  private readonly canvas: Canvas;
  private readonly still: Float32Array;
  private readonly px: number;

  constructor(
    readonly identity: Identity,
    readonly size: number,
  ) {
    this.canvas = new Canvas(size);
    this.px = 1 / (identity.scale * size); // one pixel in local units
    this.still = this.paintStill();
  }

  private paintBackground(): Float32Array {
    const { size, identity: idn } = this;
    const bg = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const fx = (x + 0.5) / size;
        const fy = (y + 0.5) / size;
        const t = idn.bgKind === 'vertical' ? fy : idn.bgKind === 'diagonal' ? (fx + fy) / 2 : Math.min(1, Math.hypot(fx - 0.5, fy - 0.45) * 1.6);
        const i = (y * size + x) * 3;
        for (let k = 0; k < 3; k++) bg[i + k] = idn.bg1[k]! + (idn.bg2[k]! - idn.bg1[k]!) * t;
      }
    }
    return bg;
  }

  /** Soft edges are this many local units wide, converted to pixels. */
  private soft(units: number): number {
    return Math.max(1, units / this.px);
  }

  /**
   * The still layers, drawn once per renderer: background, hair behind the head, neck, shoulders and
   * clothes. Only the head moves (a few pixels), and the back hair is wider than the head, so keeping
   * them still costs nothing visible and halves the work per frame.
   */
  private paintStill(): Float32Array {
    const c = this.canvas;
    const idn = this.identity;
    c.rgb.set(this.paintBackground());
    const body = bodyAffine(idn, this.size);
    const back = headAffine(idn, this.size, NEUTRAL_POSE, DEPTH.backHair);
    const hw = idn.headWidth;
    const hair = idn.hair;
    const skin = idn.skin;

    if (idn.hairStyle === 'long') c.fill(union(ellipse(0, -0.1, hw + 0.2, 1.12), (u, v) => Math.max(Math.abs(u) - (hw + 0.2), Math.abs(v - 0.7) - 0.75)), box(-hw - 0.3, -1.3, hw + 0.3, 1.5), back, hairPaint(hair));
    else if (idn.hairStyle === 'bob') c.fill(union(ellipse(0, -0.08, hw + 0.16, 1.07), (u, v) => Math.max(Math.abs(u) - (hw + 0.16), Math.abs(v - 0.35) - 0.42)), box(-hw - 0.3, -1.3, hw + 0.3, 0.9), back, hairPaint(hair));
    else if (idn.hairStyle === 'curly') c.fill(wavy(ellipse(0, -0.15, hw + 0.3, 1.12), 14, 0.03), box(-hw - 0.45, -1.4, hw + 0.45, 1.1), back, hairPaint(hair));
    else if (idn.hairStyle === 'bun') c.fill(ellipse(0, -1.02, 0.3, 0.27), box(-0.4, -1.4, 0.4, -0.6), back, hairPaint(hair));

    const neckW = hw * 0.42;
    c.fill((u, v) => Math.max(Math.abs(u) - neckW, Math.abs(v - 1.1) - 0.6), box(-neckW, 0.4, neckW, 1.8), body, (u, v, o) => {
      // Shadow under the jaw.
      const k = 0.78 + 0.12 * Math.min(1, Math.max(0, (v - 0.85) / 0.3));
      o[0] = skin[0] * k;
      o[1] = skin[1] * k;
      o[2] = skin[2] * k;
    });
    const shoulders = ellipse(0, 2.05, 1.55, 0.88);
    c.fill(shoulders, box(-1.6, 1.1, 1.6, 3), body, idn.clothes);
    if (idn.clothesStyle === 'vneck') {
      c.fill(intersect(shoulders, triangle(-neckW * 1.05, 1.1, neckW * 1.05, 1.1, 0, 1.55)), box(-0.5, 1.05, 0.5, 1.6), body, scale(skin, 0.82));
      c.fill(curveStroke(-neckW * 1.1, 1.12, 0, 1.58, neckW * 1.1, 1.12, 0.02), box(-0.5, 1.05, 0.5, 1.65), body, idn.clothes2, 0.8);
    } else if (idn.clothesStyle === 'crew') {
      c.fill(curveStroke(-neckW * 1.15, 1.14, 0, 1.27, neckW * 1.15, 1.14, 0.035), box(-0.5, 1.05, 0.5, 1.35), body, idn.clothes2);
    } else {
      const collar: Rgb = mix(idn.clothes2, [245, 245, 240], 0.7);
      c.fill(triangle(-neckW * 1.2, 1.08, -0.02, 1.42, -neckW * 0.2, 1.2), box(-0.5, 1.0, 0.1, 1.5), body, collar);
      c.fill(triangle(neckW * 1.2, 1.08, 0.02, 1.42, neckW * 0.2, 1.2), box(-0.1, 1.0, 0.5, 1.5), body, collar);
    }
    return Float32Array.from(c.rgb);
  }

  /** Renders one frame as RGB8 (size × size × 3). */
  render(pose: FacePose, out?: Uint8Array): Uint8Array {
    const c = this.canvas;
    const idn = this.identity;
    c.rgb.set(this.still);
    const at = (depth: number): Affine => headAffine(idn, this.size, pose, depth);
    const hw = idn.headWidth;
    const hair = idn.hair;
    const skin = idn.skin;

    // Ears.
    const ears = at(DEPTH.ears);
    // Long, bob and curly hair covers the ears.
    const earsShow = idn.hairStyle !== 'long' && idn.hairStyle !== 'bob' && idn.hairStyle !== 'curly';
    for (const sgn of earsShow ? [-1, 1] : []) {
      const ex = sgn * (hw - 0.02);
      c.fill(ellipse(ex, 0.04, idn.earSize * 0.55, idn.earSize), ellipseBox(ex, 0.04, 0.1, 0.2), ears, scale(skin, 0.93));
      c.fill(ellipse(ex + sgn * 0.015, 0.05, idn.earSize * 0.28, idn.earSize * 0.6), ellipseBox(ex, 0.05, 0.08, 0.14), ears, scale(skin, 0.75), 0.6, this.soft(0.02));
    }

    // The head, shaded darker towards its sides and jaw so it reads as round.
    const head = at(DEPTH.head);
    c.fill(headShape(hw, idn.jaw), box(-hw, -1, hw, 1), head, (u, v, o) => {
      const side = (u / hw) ** 2;
      const k = 1.03 - 0.14 * side * side - 0.05 * Math.max(0, v - 0.6);
      o[0] = skin[0] * k;
      o[1] = skin[1] * k;
      o[2] = skin[2] * k;
    });

    const face = at(DEPTH.eyes);
    // Eye sockets and cheeks: soft shading.
    for (const sgn of [-1, 1]) {
      const ex = sgn * idn.eyeSpacing;
      c.fill(ellipse(ex, idn.eyeY - 0.02, 0.17, 0.1), ellipseBox(ex, idn.eyeY, 0.25, 0.25), face, scale(skin, 0.72), 0.35, this.soft(0.07));
      c.fill(ellipse(sgn * 0.4, 0.32, 0.13, 0.08), ellipseBox(sgn * 0.4, 0.32, 0.25, 0.25), face, mix(skin, [220, 90, 100], 0.5), 0.18, this.soft(0.08));
    }

    // Hair on top of the head.
    const top = at(DEPTH.hair);
    if (idn.hairStyle !== 'bald') {
      const sideDepth = idn.hairStyle === 'long' || idn.hairStyle === 'bob' || idn.hairStyle === 'curly' ? 0.3 : -0.12;
      const k = (sideDepth - idn.hairline) / (hw * hw);
      const fringe = idn.hairStyle === 'bob' ? 0.1 : 0;
      let cap: Implicit = intersect(ellipse(0, -0.03, hw + 0.05, 1.06), (u, v) => (v - (idn.hairline + fringe + k * u * u + 0.08 * idn.parting * u)) * 0.5);
      if (idn.hairStyle === 'curly') cap = wavy(cap, 18, 0.02);
      c.fill(cap, box(-hw - 0.1, -1.15, hw + 0.1, sideDepth + 0.1), top, hairPaint(hair), idn.hairStyle === 'buzz' ? 0.8 : 1);
    } else {
      // Bald: a little hair around the sides.
      // A crescent along each side of the head, above the ears, thinning out towards the crown.
      const band = subtract(ellipse(0, -0.02, hw + 0.03, 1.03), ellipse(0.0, -0.06, hw - 0.06, 1.0));
      c.fill(intersect(band, ellipse(0, -0.2, hw + 0.1, 0.26)), box(-hw - 0.1, -0.5, hw + 0.1, 0.1), top, hairPaint(hair), 0.85);
    }

    this.drawBrows(pose, at(DEPTH.brows));
    this.drawEyes(pose, face);
    this.drawNose(at(DEPTH.nose));
    this.drawMouth(pose, at(DEPTH.mouth));
    return c.toRgb8(out);
  }

  private drawBrows(pose: FacePose, m: Affine): void {
    const idn = this.identity;
    const raise = 0.075 * pose.brow;
    for (const sgn of [-1, 1]) {
      const ex = sgn * idn.eyeSpacing;
      const base = idn.eyeY - 0.15 - raise;
      const inner = ex - sgn * 0.1;
      const outer = ex + sgn * 0.14;
      const [u0, v0, u1, v1] = sgn < 0 ? [outer, base + 0.03 + raise * 0.2, inner, base] : [inner, base, outer, base + 0.03 + raise * 0.2];
      const stroke = curveStroke(u0, v0, ex + sgn * 0.02, base - idn.browArch - raise * 0.3, u1, v1, idn.browThickness / 2, 0.55);
      this.canvas.fill(stroke, box(Math.min(u0, u1) - 0.05, base - 0.2, Math.max(u0, u1) + 0.05, base + 0.1), m, idn.browColor);
    }
  }

  private drawEyes(pose: FacePose, m: Affine): void {
    const idn = this.identity;
    const cv = this.canvas;
    const lash: Rgb = mix(idn.browColor, [10, 8, 8], 0.5);
    const blink = Math.min(1, Math.max(0, pose.blink));
    for (const sgn of [-1, 1]) {
      const ex = sgn * idn.eyeSpacing;
      const ey = idn.eyeY;
      const rx = idn.eyeWidth;
      const ry = idn.eyeHeight;
      // The upper lid comes down: the opening shrinks towards the lower lid.
      const ryo = ry * (1 - blink);
      const cyo = ey + ry * blink * 0.7;
      const b = ellipseBox(ex, ey, rx + 0.04, rx + 0.04);
      // Lid crease above the eye.
      cv.fill(curveStroke(ex - rx * 0.9, ey - ry * 0.6, ex, ey - ry - 0.045, ex + rx * 0.9, ey - ry * 0.6, 0.007), b, m, scale(idn.skin, 0.6), 0.45);
      if (ryo > 0.004) {
        const opening = almond(ex, cyo, rx, ryo * 1.15, ryo * 0.85);
        cv.fill(opening, b, m, [246, 242, 236]);
        const ir = ry * 0.92;
        cv.fill(intersect(ellipse(ex, ey + ry * 0.05, ir, ir), opening), b, m, idn.iris);
        cv.fill(intersect(ellipse(ex, ey + ry * 0.05, ir * 0.45, ir * 0.45), opening), b, m, [12, 10, 10]);
        cv.fill(intersect(ellipse(ex + ir * 0.3, ey - ir * 0.3, ir * 0.2, ir * 0.2), opening), b, m, [255, 255, 255], 0.9);
        // Shadow of the upper lid on the eyeball.
        cv.fill(intersect(ellipse(ex, cyo - ryo * 0.9, rx, ryo * 0.5), opening), b, m, [90, 70, 60], 0.25, this.soft(0.015));
      }
      // Lash line along the upper lid (a closed eye is just this line).
      const top = cyo - ryo;
      cv.fill(curveStroke(ex - rx * 1.02, cyo + 0.003, ex, top - 0.004, ex + rx * 1.02, cyo + 0.003, 0.011 + 0.004 * blink, 0.5), b, m, lash);
      // Lower lid, faint.
      cv.fill(curveStroke(ex - rx * 0.95, cyo + 0.004, ex, cyo + ryo + 0.006, ex + rx * 0.95, cyo + 0.004, 0.006, 0.6), b, m, scale(idn.skin, 0.6), 0.5);
    }
  }

  private drawNose(m: Affine): void {
    const idn = this.identity;
    const cv = this.canvas;
    const nw = idn.noseWidth;
    const bottom = idn.eyeY + idn.noseLength;
    const shade = scale(idn.skin, 0.62);
    // The light comes from the upper left: the bridge casts a shadow on its right side.
    cv.fill(curveStroke(nw * 0.35, idn.eyeY + 0.02, nw * 0.55, idn.eyeY + idn.noseLength * 0.5, nw * 0.75, bottom - 0.06, 0.022, 0.4), box(-0.1, idn.eyeY - 0.05, nw + 0.1, bottom), m, shade, 0.45, this.soft(0.03));
    cv.fill(ellipse(0, bottom - 0.02, nw * 1.05, 0.055), ellipseBox(0, bottom, nw + 0.1, 0.15), m, shade, 0.35, this.soft(0.035));
    // Alae (the wings of the nose) and nostrils.
    for (const sgn of [-1, 1]) {
      cv.fill(curveStroke(sgn * nw * 0.55, bottom - 0.06, sgn * nw * 1.02, bottom - 0.02, sgn * nw * 0.6, bottom + 0.012, 0.008), box(-nw - 0.1, bottom - 0.1, nw + 0.1, bottom + 0.05), m, scale(idn.skin, 0.55), 0.7);
      cv.fill(ellipse(sgn * nw * 0.42, bottom + 0.004, 0.032, 0.015, sgn * 0.35), ellipseBox(sgn * nw * 0.42, bottom, 0.05, 0.05), m, scale(idn.skin, 0.35), 0.85);
    }
    cv.fill(ellipse(-0.01, bottom - 0.07, 0.028, 0.035), ellipseBox(0, bottom - 0.07, 0.06, 0.06), m, mix(idn.skin, [255, 255, 255], 0.45), 0.35, this.soft(0.025));
  }

  private drawMouth(pose: FacePose, m: Affine): void {
    const idn = this.identity;
    const cv = this.canvas;
    const g = mouthGeometry(idn, pose);
    const outerCy = g.cy + (g.lower - g.upper) / 2;
    const outerRy = g.o / 2 + (g.upper + g.lower) / 2;
    const b = box(-g.w - 0.05, g.cy - outerRy - 0.06, g.w + 0.05, g.cy + outerRy + 0.06);
    // Cupid's bow: a small notch in the middle of the upper lip.
    const outer = intersect(ellipse(0, outerCy, g.w, outerRy), (u, v) => -ellipse(0, outerCy - outerRy - 0.008, 0.03, 0.016)(u, v));
    const lips = idn.lips;
    const lipPaint: PaintFn = (u, v, o) => {
      // Upper lip in shade, lower lip lit, with a highlight.
      const k = v < g.cy ? 0.88 : 1.04 + 0.1 * Math.exp(-(((v - (g.cy + g.o / 2 + g.lower * 0.45)) / (g.lower * 0.35)) ** 2) - (u / (g.w * 0.4)) ** 2);
      o[0] = lips[0] * k;
      o[1] = lips[1] * k;
      o[2] = lips[2] * k;
    };
    // Shadow under the lower lip.
    cv.fill(ellipse(0, g.cy + g.o / 2 + g.lower + 0.03, g.w * 0.55, 0.025), b, m, scale(idn.skin, 0.7), 0.3, this.soft(0.025));
    cv.fill(outer, b, m, lipPaint);
    if (g.o > 0.004) {
      const innerW = g.w * 0.8 * (1 - 0.2 * pose.round);
      const inner = ellipse(0, g.cy, innerW, g.o / 2);
      cv.fill(inner, b, m, [45, 14, 20]);
      const teethH = Math.min(g.o * 0.32, 0.032);
      cv.fill(intersect(inner, (u, v) => v - (g.cy - g.o / 2 + teethH)), b, m, [236, 232, 222]);
      cv.fill(intersect(inner, ellipse(0, g.cy + g.o / 2, innerW * 0.6, g.o * 0.32)), b, m, [165, 62, 72]);
    }
    // The line where the lips meet: the whole mouth when closed, the corners when open.
    const closed = Math.max(0, 1 - g.o / 0.03);
    cv.fill(curveStroke(-g.w * 0.97, g.cy, 0, g.cy + 0.006, g.w * 0.97, g.cy, 0.007, 0.3), b, m, scale(lips, 0.4), 0.35 + 0.6 * closed);
    for (const sgn of [-1, 1]) cv.fill(ellipse(sgn * g.w, g.cy, 0.012, 0.01), ellipseBox(sgn * g.w, g.cy, 0.03, 0.03), m, scale(idn.skin, 0.55), 0.5, this.soft(0.012));
  }

  /** The lips (outer lip outline, which contains the dark opening) in frame pixels. */
  lipEllipse(pose: FacePose): Ellipse {
    const g = mouthGeometry(this.identity, pose);
    return transformEllipse(headAffine(this.identity, this.size, pose, DEPTH.mouth), 0, g.cy + (g.lower - g.upper) / 2, g.w, g.o / 2 + (g.upper + g.lower) / 2);
  }

  /** The face (the head ellipse, without hair or ears) in frame pixels. */
  faceEllipse(pose: FacePose): Ellipse {
    return transformEllipse(headAffine(this.identity, this.size, pose, DEPTH.head), 0, 0, this.identity.headWidth, 1);
  }
}

/** Egg-shaped head: the jaw narrows below the middle. */
function headShape(hw: number, jaw: number): Implicit {
  return (u, v) => {
    const t = v > 0 ? v : 0;
    const rx = hw * (1 - jaw * t * t);
    const a = u / rx;
    return (Math.sqrt(a * a + v * v) - 1) * 0.7;
  };
}

/**
 * An almond (the eye opening): the lens between two circular arcs through the corners (cx ± rx, cy),
 * the upper one rising `up` above cy and the lower one dipping `down` below it. Built from circles so
 * that F stays a true distance (a pinched ellipse's F is not, and its coverage leaks far outside).
 */
function almond(cx: number, cy: number, rx: number, up: number, down: number): Implicit {
  const ru = (rx * rx + up * up) / (2 * up);
  const rd = (rx * rx + down * down) / (2 * down);
  const cu = cy - up + ru; // centre of the upper arc's circle (below the eye)
  const cd = cy + down - rd; // centre of the lower arc's circle (above the eye)
  return (u, v) => Math.max(Math.hypot(u - cx, v - cu) - ru, Math.hypot(u - cx, v - cd) - rd);
}

function triangle(x0: number, y0: number, x1: number, y1: number, x2: number, y2: number): Implicit {
  const edges = [
    [x0, y0, x1, y1],
    [x1, y1, x2, y2],
    [x2, y2, x0, y0],
  ] as const;
  const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  const sgn = area > 0 ? 1 : -1;
  return (u, v) => {
    let f = -Infinity;
    for (const [ax, ay, bx, by] of edges) {
      const ex = bx - ax;
      const ey = by - ay;
      const len = Math.hypot(ex, ey);
      // Signed distance to the edge's line, positive outside.
      f = Math.max(f, (-sgn * (ex * (v - ay) - ey * (u - ax))) / len);
    }
    return f;
  };
}

/** A wavy outline (curly hair): the edge moves in and out `n` times around the shape's centre. */
function wavy(F: Implicit, n: number, amp: number): Implicit {
  return (u, v) => F(u, v) + amp * Math.sin(n * Math.atan2(v, u));
}

/** Hair colour with a soft sheen band near the crown and darker roots towards the edges. */
function hairPaint(hair: Rgb): PaintFn {
  return (u, v, o) => {
    const k = 0.9 + 0.22 * Math.exp(-(((v + 0.72) / 0.12) ** 2) - (u / 0.5) ** 2) - 0.05 * Math.abs(Math.sin(u * 30 + v * 4));
    o[0] = hair[0] * k + 6;
    o[1] = hair[1] * k + 5;
    o[2] = hair[2] * k + 4;
  };
}
