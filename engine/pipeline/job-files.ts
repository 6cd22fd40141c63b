// A generation job on disk (DESIGN 11, "jobs are files"): `<out>.refree-job/` beside the output holds
//   job.json             the settings, their fingerprint and the chunks finished so far (atomic writes:
//                        temp file, fsync, rename — a kill at any moment leaves the old or the new file)
//   chunk-<i>.safetensors  the finished latents [C, F, h, w] of chunk i (atomic too, writeSafetensors)
// `--resume` reuses the chunks whose files are present when the fingerprint matches, so the video that
// results is bit-identical to an uninterrupted run (sampling is deterministic; nothing else is random).
import { mkdir, readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-write.js';
import path from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';

export interface JobFile {
  format: 'refree-generate-job/1';
  jobId: string;
  /** SHA-256 of everything that determines the frames (settings, inputs' bytes, model hash). */
  fingerprint: string;
  output: string;
  chunks: number;
  done: number[];
  created: string;
  updated: string;
}

export const jobDir = (output: string): string => `${path.resolve(output)}.refree-job`;
const jobJson = (dir: string): string => path.join(dir, 'job.json');
export const chunkFile = (dir: string, i: number): string => path.join(dir, `chunk-${i}.safetensors`);

export { writeFileAtomic };

export async function readJob(dir: string): Promise<JobFile | null> {
  const text = await readFile(jobJson(dir), 'utf8').catch(() => null);
  if (!text) return null;
  try {
    const j = JSON.parse(text) as JobFile;
    return j.format === 'refree-generate-job/1' ? j : null;
  } catch {
    return null;
  }
}

export async function writeJob(dir: string, job: JobFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(jobJson(dir), `${JSON.stringify({ ...job, updated: new Date().toISOString() }, null, 2)}\n`);
}

export async function saveChunk(dir: string, i: number, latents: Float32Array, shape: readonly number[], fingerprint: string): Promise<void> {
  await writeSafetensors(chunkFile(dir, i), [{ name: 'latents', dtype: 'F32', shape, data: new Uint8Array(latents.buffer, latents.byteOffset, latents.byteLength) }], { metadata: { fingerprint, chunk: String(i) } });
}

/** The chunk's latents, or null when the file is missing, unreadable, of another job, or of another shape. */
export async function loadChunk(dir: string, i: number, shape: readonly number[], fingerprint: string): Promise<Float32Array | null> {
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(chunkFile(dir, i));
  } catch {
    return null;
  }
  try {
    if (!st.has('latents') || st.metadata?.fingerprint !== fingerprint) return null;
    const info = st.info('latents');
    if (info.dtype !== 'F32' || info.shape.join() !== shape.join()) return null;
    return Float32Array.from(await st.readF32('latents'));
  } catch {
    return null;
  } finally {
    await st.close();
  }
}

export async function removeJob(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
