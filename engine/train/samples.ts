// Sample videos during training: the current parameters written as an adapter package into the run's
// samples folder, then the ordinary generation pipeline (watermark included) on a dataset clip's
// reference frame and its first seconds of speech. Real output, the same code path a user's export takes.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { generateVideo } from '../pipeline/generate.js';
import { writeAdapterPackage } from './adapter.js';
import type { TrainBase } from './base-model.js';
import type { TrainData } from './data.js';
import { clipDir } from './prepare/index.js';
import { REF_FILE } from './prepare/types.js';
import type { Stage } from './run-folder.js';
import type { TrainableSet } from './trainable.js';

export async function writeSample(runDir: string, stage: Stage, step: number, base: TrainBase, set: TrainableSet, values: Float32Array, data: TrainData, datasetDir: string, signal?: AbortSignal): Promise<string> {
  const dir = path.join(runDir, 'samples');
  const pkg = path.join(dir, `adapter-${step}`);
  await writeAdapterPackage(pkg, set, values, base.arch.dit, { name: `sample-${step}`, base: { name: base.name, hash: base.hash, dir: base.dir }, run: runDir, stage });
  const clip = data.clips[0]!;
  const out = path.join(dir, `step-${String(step).padStart(7, '0')}.mp4`);
  try {
    await generateVideo(
      {
        portrait: path.join(clipDir(datasetDir, base.dataHash, clip.id), REF_FILE),
        audio: clip.info.source,
        end: Math.min(3, clip.info.duration),
        model: pkg,
        out,
        detectFace: false,
        previewEvery: 0,
        workDir: path.join(dir, `.job-${step}`),
      },
      { signal },
    );
  } finally {
    await rm(pkg, { recursive: true, force: true });
  }
  return out;
}
