// Face landmarks for the training masks: FaceMesh (468 points) from @vladmandic/human, run on the
// cropped frame. The lip mask is the polygon of the outer lip contour (upper outer lip left → right,
// lower outer lip right → left); the face mask is the face oval ("silhouette", 36 points).
//
// This is a second Human instance beside the portrait detector's (engine/media/face-detector.ts), with
// the mesh model on; it loads through that module's helpers for the two Node quirks (the wasm build
// loaded by path, and fetch() taught to read file:// URLs while the models load).
import { createRequire } from 'node:module';
import { humanFiles, withFileFetch } from '../../media/face-detector.js';
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
interface HumanTensor {
  dispose(): void;
}
interface HumanLike {
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<{ face: { box: [number, number, number, number]; score: number; mesh: Pt[]; annotations: Record<string, Pt[]> }[] }>;
  tf: { ready(): Promise<void>; getBackend(): string; tensor3d(values: Int32Array, shape: [number, number, number], dtype: 'int32'): HumanTensor };
}

let shared: Promise<HumanLike> | null = null;

function loadMesh(): Promise<HumanLike> {
  shared ??= (async () => {
    const files = humanFiles();
    const { Human } = createRequire(import.meta.url)(files.module) as { Human: new (c: Record<string, unknown>) => HumanLike };
    const off = { enabled: false };
    const human = new Human({
      backend: 'wasm',
      wasmPath: files.wasm,
      modelBasePath: files.models,
      debug: false,
      warmup: 'none',
      // Every frame is detected afresh: human's frame-to-frame caching would hide a lost face.
      cacheSensitivity: 0,
      filter: off,
      gesture: off,
      body: off,
      hand: off,
      object: off,
      segmentation: off,
      face: {
        enabled: true,
        detector: { enabled: true, rotation: false, maxDetected: 3, minConfidence: 0.2, skipFrames: 0, skipTime: 0, return: false },
        mesh: { enabled: true },
        iris: off,
        attention: off,
        description: off,
        emotion: off,
        antispoof: off,
        liveness: off,
      },
    });
    await withFileFetch(async () => {
      await human.load();
      await human.tf.ready();
    });
    return human;
  })();
  shared.catch(() => {
    shared = null;
  });
  return shared;
}

const toPoints = (pts: readonly Pt[] | undefined): Point[] => (pts ?? []).map((p) => ({ x: p[0], y: p[1] }));

export async function faceMeshDetector(): Promise<LandmarkDetector> {
  const human = await loadMesh();
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
