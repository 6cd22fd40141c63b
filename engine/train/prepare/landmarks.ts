// Face landmarks for the training masks: FaceMesh (468 points) from @vladmandic/human, run on the
// cropped frame. The lip mask is the polygon of the outer lip contour (upper outer lip left → right,
// lower outer lip right → left); the face mask is the face oval ("silhouette", 36 points).
//
// This is its own Human instance (engine/media/human.ts) with the mesh model on.
import { loadHuman } from '../../media/human.js';
import type { RgbImage } from '../../media/image-input.js';
import type { Point } from './masks.js';

export interface FaceLandmarks {
  lips: Point[];
  oval: Point[];
  score: number;
}

export interface LandmarkDetector {
  /** Landmarks of the largest face in the image (pixel coordinates), or null when none is found. */
  landmarks(img: RgbImage): Promise<FaceLandmarks | null>;
}

type Pt = [number, number, number?];
type MeshResult = { face: { box: [number, number, number, number]; score: number; mesh: Pt[]; annotations: Record<string, Pt[]> }[] };

const toPoints = (pts: readonly Pt[] | undefined): Point[] => (pts ?? []).map((p) => ({ x: p[0], y: p[1] }));

export async function faceMeshDetector(): Promise<LandmarkDetector> {
  const human = await loadHuman<MeshResult>('training landmarks', { rotation: false, maxDetected: 3, mesh: true });
  return {
    async landmarks(img: RgbImage): Promise<FaceLandmarks | null> {
      const values = new Int32Array(img.width * img.height * 3);
      for (let i = 0; i < values.length; i++) values[i] = img.data[i]!;
      const t = human.tf.tensor3d(values, [img.height, img.width, 3], 'int32');
      try {
        const r = await human.detect(t);
        const faces = r.face.filter((f) => f.mesh?.length >= 468 && f.annotations?.lipsUpperOuter && f.annotations?.silhouette);
        if (faces.length === 0) return null;
        const f = faces.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
        const lips = [...toPoints(f.annotations.lipsUpperOuter), ...toPoints(f.annotations.lipsLowerOuter).reverse()];
        return { lips, oval: toPoints(f.annotations.silhouette), score: f.score };
      } finally {
        t.dispose();
      }
    },
  };
}
