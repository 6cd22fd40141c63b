// Face landmarks per video frame: BlazeFace + FaceMesh (468 points) from @vladmandic/human on
// TensorFlow.js's WebAssembly backend (engine/media/human.ts), in its own Human instance because this
// one runs the mesh model too. About 40 ms per frame on one core.
//
// human rounds mesh coordinates down to whole pixels of its input. A mouth opening of a few pixels
// would then move in steps of 30 %, so small frames are upscaled (bilinear, by a whole factor) until
// the longer side is at least `minSide` before they go in, and the points are scaled back: quarter-
// pixel steps on a 256-pixel video.
import { loadHuman } from '../media/human.js';

/** One frame's landmarks, in the pixel coordinates of the frame given to `landmarks()`. */
export interface FaceLandmarks {
  /** 468 points as x0, y0, x1, y1, … (MediaPipe FaceMesh numbering). */
  points: Float32Array;
  /** Detector confidence and mesh confidence, 0..1. */
  boxScore: number;
  meshScore: number;
  /** human's own head angles from the mesh, radians (null when it gives none). */
  angles: { yaw: number; pitch: number; roll: number } | null;
}

export interface FaceMesher {
  /** Landmarks of the most confident face in an RGB frame, or null when no face is found. */
  landmarks(rgb: Uint8Array, width: number, height: number): Promise<FaceLandmarks | null>;
}

export interface FaceMeshOptions {
  /** Frames are upscaled by a whole factor until their longer side is at least this (default 512). */
  minSide?: number;
  /** Detector / mesh confidence below which a face counts as not found (default 0.3). */
  minConfidence?: number;
}

export const MESH_POINTS = 468;

type MeshResult = { face: { boxScore: number; faceScore: number; score: number; mesh: [number, number, number?][]; rotation?: { angle: { yaw: number; pitch: number; roll: number } } | null }[] };

/** Bilinear upscale of interleaved RGB by a whole factor, to int32 for TF.js. */
export function upscaleRgb(rgb: Uint8Array, width: number, height: number, factor: number): Int32Array {
  const W = width * factor;
  const H = height * factor;
  const out = new Int32Array(W * H * 3);
  if (factor === 1) {
    for (let i = 0; i < out.length; i++) out[i] = rgb[i]!;
    return out;
  }
  for (let y = 0; y < H; y++) {
    const sy = Math.min(height - 1, Math.max(0, (y + 0.5) / factor - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(width - 1, Math.max(0, (x + 0.5) / factor - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      const a = (y0 * width + x0) * 3;
      const b = (y0 * width + x1) * 3;
      const c = (y1 * width + x0) * 3;
      const d = (y1 * width + x1) * 3;
      const o = (y * W + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = rgb[a + k]! * (1 - fx) + rgb[b + k]! * fx;
        const bot = rgb[c + k]! * (1 - fx) + rgb[d + k]! * fx;
        out[o + k] = Math.round(top * (1 - fy) + bot * fy);
      }
    }
  }
  return out;
}

/** The shared FaceMesh landmarker (the models are loaded on the first call). */
export async function faceMesher(opts: FaceMeshOptions = {}): Promise<FaceMesher> {
  // rotation: the mesh crop is turned upright by the eye line, so a rolled head keeps its mesh.
  const human = await loadHuman<MeshResult>('face landmarks', { rotation: true, maxDetected: 1, mesh: true });
  const minSide = opts.minSide ?? 512;
  const minConfidence = opts.minConfidence ?? 0.3;
  return {
    async landmarks(rgb, width, height) {
      if (rgb.length !== width * height * 3) throw new RangeError(`face landmarks: expected ${width}×${height} RGB (${width * height * 3} bytes), got ${rgb.length}`);
      const factor = Math.max(1, Math.ceil(minSide / Math.max(width, height)));
      const input = upscaleRgb(rgb, width, height, factor);
      const t = human.tf.tensor3d(input, [height * factor, width * factor, 3], 'int32');
      try {
        const res = await human.detect(t);
        const f = res.face[0];
        if (!f || f.mesh.length < MESH_POINTS || f.boxScore < minConfidence || f.faceScore < minConfidence) return null;
        // Each point sits at the centre of the input pixel it was rounded into.
        const points = new Float32Array(MESH_POINTS * 2);
        for (let i = 0; i < MESH_POINTS; i++) {
          const p = f.mesh[i]!;
          points[2 * i] = (p[0] + 0.5) / factor - 0.5;
          points[2 * i + 1] = (p[1] + 0.5) / factor - 0.5;
        }
        const a = f.rotation?.angle;
        return { points, boxScore: f.boxScore, meshScore: f.faceScore, angles: a ? { yaw: a.yaw, pitch: a.pitch, roll: a.roll } : null };
      } finally {
        t.dispose();
      }
    },
  };
}
