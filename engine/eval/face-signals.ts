// What one frame's face says, from its FaceMesh landmarks and its pixels: mouth opening (two ways),
// head pose proxies, brow raise and eye opening. All are ratios of distances inside the face, so they
// do not change with the face's size or place in the frame.
//
// Against the truth of 10 synthetic clips (refree eval --calibrate; the avatars' heads move only 1–2°),
// mean Pearson r: roll 0.86, brow 0.68, blink (−eye opening) 0.81, pitch 0.39, yaw 0.26. Roll from the
// eye line is dependable; yaw and pitch proxies from a 2-D mesh are rough at such small angles.
//
// Landmark numbers are MediaPipe FaceMesh's (the model @vladmandic/human runs): 13/14 inner lips
// (upper/lower, centre), 78/308 inner mouth corners, 61/291 outer corners, 0/17 outer lip centre,
// 33/263 outer eye corners (image left/right), 133/362 inner eye corners, 159/145 and 386/374 upper and
// lower lids, 105/334 brows, 1 nose tip, 10 forehead top, 152 chin, 234/454 face sides, 50/280 cheeks.
//
// Pixel mouth measure: FaceMesh has never seen a drawn avatar and its inner-lip points saturate on
// one (a 20-px dark mouth can even lose the face), while a drawn open mouth is simply dark. So the
// box the landmarks place over the mouth — centred between the inner lips, sized by the mouth's width
// so that it holds the widest opening whatever the inner-lip points say — is also read for pixels
// darker than the face's own lips ("dark area", in units of mouth width², and "darkness", the mean
// depth below the lip shade). Lips are sampled halfway between the outer and inner lip points, skin
// on both cheeks; the lip shade is used unless the lips are no darker than the skin.
import { MESH_POINTS } from './face-mesh.js';

export interface FaceSignals {
  /** Inner-lip distance (13–14) / inner mouth width (78–308). */
  mouthLandmark: number;
  /** Pixels darker than the lip shade inside the mouth box, / mouth width². */
  mouthDarkArea: number;
  /** Mean of max(0, (lip − Y) / lip) inside the mouth box. */
  mouthDarkness: number;
  /** Eye-line angle, degrees (positive: the image-right eye is lower, i.e. the head turns clockwise). */
  roll: number;
  /** Nose tip's offset from the middle of the face sides, / face width (positive: towards image right). */
  yaw: number;
  /** Nose tip's height above the upper lip over the eye-line-to-lip height (larger: head tipped up). */
  pitch: number;
  /** Brow-to-eye distance / face height (forehead–chin), mean of both sides. */
  brow: number;
  /** Lid opening / eye width, mean of both eyes. */
  eyeOpen: number;
  /** Face box (from the landmarks) in frame pixels. */
  box: { x: number; y: number; width: number; height: number };
}

export const SIGNAL_KEYS = ['mouthLandmark', 'mouthDarkArea', 'mouthDarkness', 'roll', 'yaw', 'pitch', 'brow', 'eyeOpen'] as const;
export type SignalKey = (typeof SIGNAL_KEYS)[number];

const px = (p: Float32Array, i: number): number => p[2 * i]!;
const py = (p: Float32Array, i: number): number => p[2 * i + 1]!;
const dist = (p: Float32Array, a: number, b: number): number => Math.hypot(px(p, a) - px(p, b), py(p, a) - py(p, b));

/** Luma (BT.601) of the pixel nearest (x, y), clamped into the frame. */
function lumaAt(rgb: Uint8Array, width: number, height: number, x: number, y: number): number {
  const xi = Math.min(width - 1, Math.max(0, Math.round(x)));
  const yi = Math.min(height - 1, Math.max(0, Math.round(y)));
  const o = (yi * width + xi) * 3;
  return 0.299 * rgb[o]! + 0.587 * rgb[o + 1]! + 0.114 * rgb[o + 2]!;
}

/** Median luma of a (2r+1)² patch around (x, y). */
function patchLuma(rgb: Uint8Array, width: number, height: number, x: number, y: number, r: number): number {
  const v: number[] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) v.push(lumaAt(rgb, width, height, x + dx, y + dy));
  v.sort((a, b) => a - b);
  return v[v.length >> 1]!;
}

/** The mouth box's pixel measures (see the file comment). */
function mouthPixels(rgb: Uint8Array, width: number, height: number, p: Float32Array): { darkArea: number; darkness: number } {
  const w = Math.max(1, dist(p, 61, 291));
  const r = Math.max(1, Math.round(w * 0.06));
  // Lip bodies: halfway between outer (0/17) and inner (13/14) lip centres, and beside them.
  const lips = [
    patchLuma(rgb, width, height, (px(p, 0) + px(p, 13)) / 2, (py(p, 0) + py(p, 13)) / 2, r),
    patchLuma(rgb, width, height, (px(p, 17) + px(p, 14)) / 2, (py(p, 17) + py(p, 14)) / 2, r),
  ];
  const skin = Math.max(patchLuma(rgb, width, height, px(p, 50), py(p, 50), r), patchLuma(rgb, width, height, px(p, 280), py(p, 280), r));
  const lip = Math.min(Math.max(...lips), skin);
  const ref = Math.max(8, lip < skin * 0.95 ? lip : skin * 0.8);
  const threshold = ref * 0.75;
  const cx = (px(p, 13) + px(p, 14)) / 2;
  const cy = (py(p, 13) + py(p, 14)) / 2;
  const half = w * 0.4;
  const x0 = Math.max(0, Math.floor(cx - half));
  const x1 = Math.min(width - 1, Math.ceil(cx + half));
  const y0 = Math.max(0, Math.floor(cy - half));
  const y1 = Math.min(height - 1, Math.ceil(cy + half));
  let dark = 0;
  let depth = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const o = (y * width + x) * 3;
      const Y = 0.299 * rgb[o]! + 0.587 * rgb[o + 1]! + 0.114 * rgb[o + 2]!;
      if (Y < threshold) dark++;
      depth += Math.max(0, (ref - Y) / ref);
      n++;
    }
  }
  return { darkArea: dark / (w * w), darkness: n ? depth / n : 0 };
}

/** All signals of one frame; `points` from FaceMesher.landmarks, `rgb` the same frame. */
export function faceSignals(points: Float32Array, rgb: Uint8Array, width: number, height: number): FaceSignals {
  if (points.length !== MESH_POINTS * 2) throw new RangeError(`face signals: expected ${MESH_POINTS} landmarks, got ${points.length / 2}`);
  const p = points;
  const mouthW = Math.max(1e-6, dist(p, 78, 308));
  const faceW = Math.max(1e-6, dist(p, 234, 454));
  const faceH = Math.max(1e-6, dist(p, 10, 152));
  const eyeMidY = (py(p, 33) + py(p, 263)) / 2;
  const lipY = py(p, 0);
  const browL = dist(p, 105, 33) + dist(p, 105, 133);
  const browR = dist(p, 334, 263) + dist(p, 334, 362);
  const eyeL = dist(p, 159, 145) / Math.max(1e-6, dist(p, 33, 133));
  const eyeR = dist(p, 386, 374) / Math.max(1e-6, dist(p, 263, 362));
  let xmin = Infinity;
  let ymin = Infinity;
  let xmax = -Infinity;
  let ymax = -Infinity;
  for (let i = 0; i < MESH_POINTS; i++) {
    xmin = Math.min(xmin, px(p, i));
    xmax = Math.max(xmax, px(p, i));
    ymin = Math.min(ymin, py(p, i));
    ymax = Math.max(ymax, py(p, i));
  }
  const mouth = mouthPixels(rgb, width, height, p);
  return {
    mouthLandmark: dist(p, 13, 14) / mouthW,
    mouthDarkArea: mouth.darkArea,
    mouthDarkness: mouth.darkness,
    roll: (Math.atan2(py(p, 263) - py(p, 33), px(p, 263) - px(p, 33)) * 180) / Math.PI,
    yaw: (px(p, 1) - (px(p, 234) + px(p, 454)) / 2) / faceW,
    // The nose tip stands out of the face, so tipping the head up lifts it towards the eye line.
    pitch: (lipY - py(p, 1)) / Math.max(1e-6, lipY - eyeMidY),
    // Each side: (brow→outer corner + brow→inner corner) / 2, a height that ignores the lid (blinks).
    brow: (browL + browR) / 4 / faceH,
    eyeOpen: (eyeL + eyeR) / 2,
    box: { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin },
  };
}
