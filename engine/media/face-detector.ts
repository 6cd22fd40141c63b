// Face detection for the portrait crop: BlazeFace from @vladmandic/human, whose npm package ships the
// model files (no download at install or run time), run by TensorFlow.js's WebAssembly backend so that
// no native addon is needed. Loaded once per process on first use (about 0.5 s), then ~50–200 ms per
// image on this machine's CPU.
//
// human is loaded by ./human.ts (the Node quirks are there).
import { loadHuman } from './human.js';
import type { RgbImage } from './image-input.js';

/** A detected face in the pixel coordinates of the image given to detect(). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Detector confidence, 0..1. */
  score: number;
}

export interface FaceDetector {
  /** Faces found, most confident first. */
  detect(img: RgbImage): Promise<FaceBox[]>;
}

export interface FaceDetectorOptions {
  /** Faces below this confidence are ignored (default 0.5). */
  minScore?: number;
  /** The image is downscaled so that its longer side is at most this before detection (default 800). */
  maxSide?: number;
}

type DetectResult = { face: { boxRaw: [number, number, number, number]; boxScore: number; score: number }[] };

/** Nearest-neighbour downscale (detection needs no better) of interleaved RGB, to int32 for TF.js. */
function toDetectionInput(img: RgbImage, maxSide: number): { values: Int32Array; width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(img.width, img.height));
  const width = Math.max(1, Math.round(img.width * s));
  const height = Math.max(1, Math.round(img.height * s));
  const values = new Int32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor((y + 0.5) / s));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.floor((x + 0.5) / s));
      const si = (sy * img.width + sx) * 3;
      const di = (y * width + x) * 3;
      values[di] = img.data[si]!;
      values[di + 1] = img.data[si + 1]!;
      values[di + 2] = img.data[si + 2]!;
    }
  }
  return { values, width, height };
}

/** The shared BlazeFace detector (the model is loaded on the first call). */
export async function blazeFaceDetector(opts: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const human = await loadHuman<DetectResult>('face detector', { rotation: false, maxDetected: 10, mesh: false });
  const minScore = opts.minScore ?? 0.5;
  const maxSide = opts.maxSide ?? 800;
  return {
    async detect(img: RgbImage): Promise<FaceBox[]> {
      const input = toDetectionInput(img, maxSide);
      const t = human.tf.tensor3d(input.values, [input.height, input.width, 3], 'int32');
      try {
        const res = await human.detect(t);
        return res.face
          .map((f) => ({ x: f.boxRaw[0] * img.width, y: f.boxRaw[1] * img.height, width: f.boxRaw[2] * img.width, height: f.boxRaw[3] * img.height, score: f.boxScore ?? f.score }))
          .filter((f) => f.score >= minScore && f.width > 0 && f.height > 0)
          .sort((a, b) => b.score - a.score);
      } finally {
        t.dispose();
      }
    },
  };
}
