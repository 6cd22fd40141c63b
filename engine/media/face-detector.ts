// Face detection for the portrait crop: BlazeFace from @vladmandic/human, whose npm package ships the
// model files (no download at install or run time), run by TensorFlow.js's WebAssembly backend so that
// no native addon is needed. Loaded once per process on first use (about 0.5 s), then ~50–200 ms per
// image on this machine's CPU.
//
// Two quirks of running human in Node (found when the package was chosen):
//   - its exports map names subpaths without "./", so `@vladmandic/human/dist/human.node-wasm.js` does
//     not resolve; we resolve the package's main file and load its sibling by path;
//   - TF.js loads models and the .wasm with fetch(), and Node's fetch refuses file:// URLs; while the
//     detector loads, fetch is wrapped so that file:// URLs are read from disk (all other URLs go to
//     the original fetch), and the original is put back afterwards.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

// The small part of human's API used here (its own typings pull in TF.js's and WebGPU's).
interface HumanTensor {
  dispose(): void;
}
interface HumanLike {
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<{ face: { boxRaw: [number, number, number, number]; boxScore: number; score: number }[] }>;
  tf: {
    ready(): Promise<void>;
    getBackend(): string;
    tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype: 'int32'): HumanTensor;
  };
}
type HumanModule = { Human: new (config: Record<string, unknown>) => HumanLike };

export function humanFiles(): { module: string; models: string; wasm: string } {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@vladmandic/human'); // .../dist/human.node.js (the "node" condition)
  const pkgDir = path.dirname(path.dirname(main));
  const wasmMain = require.resolve('@tensorflow/tfjs-backend-wasm'); // .../dist/tf-backend-wasm.node.js
  return {
    module: path.join(path.dirname(main), 'human.node-wasm.js'),
    models: pathToFileURL(path.join(pkgDir, 'models')).href + '/',
    wasm: pathToFileURL(path.dirname(wasmMain)).href + '/',
  };
}

/** Runs `fn` with fetch() able to read file:// URLs (also used by engine/eval's FaceMesh loader). */
export async function withFileFetch<T>(fn: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith('file://')) {
      const body = await readFile(new URL(url));
      const type = url.endsWith('.wasm') ? 'application/wasm' : url.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      return new Response(body, { status: 200, headers: { 'content-type': type } });
    }
    return original(input, init);
  };
  globalThis.fetch = wrapped;
  try {
    return await fn();
  } finally {
    if (globalThis.fetch === wrapped) globalThis.fetch = original;
  }
}

let shared: Promise<HumanLike> | null = null;

function loadHuman(): Promise<HumanLike> {
  shared ??= (async () => {
    const files = humanFiles();
    const { Human } = createRequire(import.meta.url)(files.module) as HumanModule;
    const off = { enabled: false };
    const human = new Human({
      backend: 'wasm',
      wasmPath: files.wasm,
      modelBasePath: files.models,
      debug: false,
      warmup: 'none',
      // Results are never reused between calls: every portrait is a new picture.
      cacheSensitivity: 0,
      filter: off,
      gesture: off,
      body: off,
      hand: off,
      object: off,
      segmentation: off,
      face: {
        enabled: true,
        detector: { enabled: true, rotation: false, maxDetected: 10, minConfidence: 0.2, skipFrames: 0, skipTime: 0, return: false },
        mesh: off,
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
    if (human.tf.getBackend() !== 'wasm') throw new Error(`face detector: TensorFlow.js started the ${human.tf.getBackend()} backend instead of wasm`);
    return human;
  })();
  shared.catch(() => {
    shared = null; // a failed load can be retried
  });
  return shared;
}

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
  const human = await loadHuman();
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
