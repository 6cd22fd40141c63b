// @vladmandic/human in Node, loaded once per process per configuration: its npm package ships the
// BlazeFace and FaceMesh model files (no download at install or run time), run by TensorFlow.js's
// WebAssembly backend so that no native addon is needed. Used by the portrait detector
// (face-detector.ts), the lip-sync measures (engine/eval/face-mesh.ts) and the training masks
// (engine/train/prepare/landmarks.ts), each with its own detector settings.
//
// Two quirks of running human in Node (found when the package was chosen):
//   - its exports map names subpaths without "./", so `@vladmandic/human/dist/human.node-wasm.js` does
//     not resolve; we resolve the package's main file and load its sibling by path;
//   - TF.js loads models and the .wasm with fetch(), and Node's fetch refuses file:// URLs; while a
//     model loads, fetch is wrapped so that file:// URLs are read from disk (all other URLs go to the
//     original fetch), and the original is put back afterwards.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// The small part of human's API used here (its own typings pull in TF.js's and WebGPU's); `R` is the
// shape of a detect() result as the caller reads it.
export interface HumanTensor {
  dispose(): void;
}
export interface HumanLike<R> {
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<R>;
  tf: {
    ready(): Promise<void>;
    getBackend(): string;
    tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype: 'int32'): HumanTensor;
  };
}

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

/** Runs `fn` with fetch() able to read file:// URLs. */
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

export interface HumanFaceSettings {
  /** Turn the mesh crop upright by the eye line (a rolled head keeps its mesh). */
  rotation: boolean;
  maxDetected: number;
  /** Run FaceMesh (468 points) after the detector. */
  mesh: boolean;
}

const loaded = new Map<string, Promise<HumanLike<unknown>>>();

/**
 * The Human instance for these face settings, loaded on first use (about 0.5 s). `who` names the
 * caller in errors. Every call detects afresh (no box reuse between frames or pictures): a measure
 * must not depend on what a tracker remembered, and a lost face must show as lost.
 */
export function loadHuman<R>(who: string, face: HumanFaceSettings): Promise<HumanLike<R>> {
  const key = JSON.stringify(face);
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const files = humanFiles();
      const { Human } = createRequire(import.meta.url)(files.module) as { Human: new (config: Record<string, unknown>) => HumanLike<unknown> };
      const off = { enabled: false };
      const human = new Human({
        backend: 'wasm',
        wasmPath: files.wasm,
        modelBasePath: files.models,
        debug: false,
        warmup: 'none',
        cacheSensitivity: 0,
        filter: off,
        gesture: off,
        body: off,
        hand: off,
        object: off,
        segmentation: off,
        face: {
          enabled: true,
          detector: { enabled: true, rotation: face.rotation, maxDetected: face.maxDetected, minConfidence: 0.2, skipFrames: 0, skipTime: 0, return: false },
          mesh: face.mesh ? { enabled: true } : off,
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
      if (human.tf.getBackend() !== 'wasm') throw new Error(`${who}: TensorFlow.js started the ${human.tf.getBackend()} backend instead of wasm`);
      return human;
    })();
    loaded.set(key, p);
    p.catch(() => loaded.delete(key)); // a failed load can be retried
  }
  return p as Promise<HumanLike<R>>;
}
