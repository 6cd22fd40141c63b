// The prepared dataset on disk (layout in types.ts): the cache key, clip fingerprints, writing a clip's
// cache atomically (a temporary folder renamed into place, so a clip folder is either complete or
// absent), and reading it back for the trainer.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../pipeline/job-files.js';
import { SafetensorsFile, writeSafetensors } from '../../model/weights/safetensors.js';
import type { ClipInfo, DatasetManifest, PreparedClip } from './types.js';
import { CACHE_DIR, CLIP_FILE, CLIP_FORMAT, DATA_FILE, DATASET_FILE, DATASET_FORMAT, PrepareError, REF_FILE } from './types.js';

/** `cache/<first 12 hex of the package hash>`, relative to the dataset folder. */
export function cacheKey(packageHash: string): string {
  return path.join(CACHE_DIR, packageHash.slice(0, 12));
}

export function clipDir(datasetDir: string, packageHash: string, clipId: string): string {
  return path.join(path.resolve(datasetDir), cacheKey(packageHash), clipId);
}

/** Hash of what a clip's preparation depends on besides the model: the source's bytes (size + mtime), the truth beside it, and the settings. */
export function clipFingerprint(parts: { bytes: number; mtimeMs: number; truth: { bytes: number; mtimeMs: number } | null; settings: Record<string, number | string> }): string {
  return createHash('sha256').update(JSON.stringify({ v: CLIP_FORMAT, ...parts })).digest('hex');
}

const f32 = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface ClipData {
  latents: Float32Array;
  latentShape: [number, number, number, number];
  speech: Float32Array;
  lipMask: Float32Array;
  faceMask: Float32Array;
}

/** Writes a clip folder as a whole: into `<dir>.tmp-<pid>`, then renamed over any old one. */
export async function writeClipCache(dir: string, info: ClipInfo, data: ClipData, refPng: Uint8Array): Promise<void> {
  const [C, F, h, w] = data.latentShape;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await writeSafetensors(
      path.join(tmp, DATA_FILE),
      [
        { name: 'latents', dtype: 'F32', shape: [C, F, h, w], data: f32(data.latents) },
        { name: 'speech', dtype: 'F32', shape: [info.frames, info.speechDim], data: f32(data.speech) },
        { name: 'lip_mask', dtype: 'F32', shape: [F, h, w], data: f32(data.lipMask) },
        { name: 'face_mask', dtype: 'F32', shape: [F, h, w], data: f32(data.faceMask) },
      ],
      { metadata: { format: CLIP_FORMAT, clip: info.id, model: info.modelHash, fingerprint: info.fingerprint } },
    );
    await writeFile(path.join(tmp, REF_FILE), refPng);
    await writeFile(path.join(tmp, CLIP_FILE), `${JSON.stringify(info, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Removes clip folders half-written by a process that no longer runs (`<clip>.tmp-<pid>`). */
export async function removeStaleTemps(cacheDir: string): Promise<void> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await rm(path.join(cacheDir, name), { recursive: true, force: true });
  }
}

async function readClipInfo(dir: string): Promise<ClipInfo | null> {
  const text = await readFile(path.join(dir, CLIP_FILE), 'utf8').catch(() => null);
  if (!text) return null;
  try {
    const j = JSON.parse(text) as ClipInfo;
    return j.format === CLIP_FORMAT ? j : null;
  } catch {
    return null;
  }
}

/** The cached clip's info when its folder is complete and was made from the same source, settings and model. */
export async function validCache(dir: string, fingerprint: string, modelHash: string): Promise<ClipInfo | null> {
  const info = await readClipInfo(dir);
  if (!info || info.fingerprint !== fingerprint || info.modelHash !== modelHash) return null;
  if (!(await stat(path.join(dir, REF_FILE)).catch(() => null))) return null;
  let st: SafetensorsFile | null = null;
  try {
    st = await SafetensorsFile.open(path.join(dir, DATA_FILE));
    const [C, F, h, w] = info.latentShape;
    const want: Record<string, number[]> = { latents: [C, F, h, w], speech: [info.frames, info.speechDim], lip_mask: [F, h, w], face_mask: [F, h, w] };
    const have = new Map(st.tensors().map((t) => [t.name, t]));
    for (const [name, shape] of Object.entries(want)) {
      const t = have.get(name);
      if (!t || t.dtype !== 'F32' || t.shape.join(',') !== shape.join(',')) return null;
    }
    return info;
  } catch {
    return null;
  } finally {
    await st?.close();
  }
}

export async function writeDataset(datasetDir: string, manifest: DatasetManifest): Promise<void> {
  // A new --out folder where every clip was refused has no cache folder yet.
  await mkdir(datasetDir, { recursive: true });
  await writeFileAtomic(path.join(datasetDir, DATASET_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The dataset manifest of a prepared folder. */
export async function readDataset(datasetDir: string): Promise<DatasetManifest> {
  const file = path.join(path.resolve(datasetDir), DATASET_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) throw new PrepareError(`${file} does not exist: prepare the clips first with \`refree train prepare <folder> --model <package>\``);
  let j: DatasetManifest;
  try {
    j = JSON.parse(text) as DatasetManifest;
  } catch (e) {
    throw new PrepareError(`${file} is not valid JSON (${(e as Error).message}); prepare the clips again`);
  }
  if (j.format !== DATASET_FORMAT || !Array.isArray(j.clips)) throw new PrepareError(`${file} is not a prepared dataset (format ${JSON.stringify(j.format)}, expected ${DATASET_FORMAT})`);
  return j;
}

/** A prepared clip's tensors, for the trainer. */
export async function loadPreparedClip(datasetDir: string, clipId: string, packageHash: string): Promise<PreparedClip> {
  const dir = clipDir(datasetDir, packageHash, clipId);
  const info = await readClipInfo(dir);
  if (!info) throw new PrepareError(`clip "${clipId}" has no prepared cache for model ${packageHash.slice(0, 12)} in ${path.resolve(datasetDir)}: prepare the clips with this model first`);
  if (info.modelHash !== packageHash) throw new PrepareError(`clip "${clipId}" in ${dir} was prepared for model ${info.modelHash.slice(0, 12)}, not ${packageHash.slice(0, 12)}; prepare the clips with this model`);
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(path.join(dir, DATA_FILE));
  } catch (e) {
    throw new PrepareError(`the cache of clip "${clipId}" (${dir}) cannot be read (${(e as Error).message}); prepare the clips again`);
  }
  try {
    const [C, F, h, w] = info.latentShape;
    const get = async (name: string, n: number): Promise<Float32Array> => {
      if (!st.has(name)) throw new PrepareError(`the cache of clip "${clipId}" (${dir}) lacks the tensor ${name}; prepare the clips again`);
      const a = Float32Array.from(await st.readF32(name));
      if (a.length !== n) throw new PrepareError(`the cache of clip "${clipId}" (${dir}): ${name} has ${a.length} values, ${n} expected; prepare the clips again`);
      return a;
    };
    return {
      id: clipId,
      latents: await get('latents', C * F * h * w),
      latentShape: [C, F, h, w],
      speech: await get('speech', info.frames * info.speechDim),
      speechDim: info.speechDim,
      lipMask: await get('lip_mask', F * h * w),
      faceMask: await get('face_mask', F * h * w),
      frames: info.frames,
      info,
    };
  } finally {
    await st.close();
  }
}
