// `refree train prepare`: a folder of talking-head clips → a prepared dataset for one model package
// (DESIGN 13; layout in types.ts). Every video file is prepared or refused with its reason, and the others
// go on; a clip whose source, settings and model are unchanged is taken from the cache; the folder
// checks (missing, a file, no videos) fail before anything is written.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CancelledError } from '../../common/engine-errors.js';
import type { FaceDetector } from '../../media/face-detector.js';
import { blazeFaceDetector } from '../../media/face-detector.js';
import { probeMedia } from '../../media/probe.js';
import { latentSize } from '../../model/vae/geometry.js';
import { packageDefaults } from '../../pipeline/defaults.js';
import type { GenerationModel } from '../../pipeline/model.js';
import { openGenerationModel } from '../../pipeline/model.js';
import type { Backend } from '../../runtime/session.js';
import { cacheKey, clipDir, clipFingerprint, readDataset, removeStaleTemps, validCache, writeDataset } from './cache.js';
import { ClipRefused, prepareClip } from './clip.js';
import type { LandmarkDetector } from './landmarks.js';
import { faceMeshDetector } from './landmarks.js';
import { listSourceClips } from './scan.js';
import { readTruthBeside } from './truth.js';
import type { DatasetClip, DatasetManifest, PrepareEvent, PrepareOptions, PrepareStage } from './types.js';
import { DATASET_FILE, DATASET_FORMAT, DEFAULT_MAX_SECONDS, MIN_FRAMES, PREPARE_FPS, PrepareError } from './types.js';
import { StreamingVaeEncoder } from './vae-encoder.js';

export * from './types.js';
export { loadPreparedClip, readDataset, cacheKey, clipDir } from './cache.js';
export { listSourceClips } from './scan.js';

export interface PrepareResult {
  dataset: string;
  manifestFile: string;
  manifest: DatasetManifest;
  accepted: number;
  refused: number;
  /** Clips taken from an earlier run's cache (accepted or refused). */
  cached: number;
  seconds: number;
}

export interface PrepareRunOptions extends PrepareOptions {
  backend?: Backend;
}

function checkNumber(v: number | undefined, what: string, min: number, integer: boolean): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) throw new PrepareError(`${what} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got ${v})`);
}

async function openModel(dir: string, backend: Backend | undefined): Promise<GenerationModel> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new PrepareError(`the model package ${path.resolve(dir)} does not exist or is not a folder; give a model package folder with --model`);
  try {
    return await openGenerationModel(dir, { backend: backend ?? 'cpu' });
  } catch (e) {
    throw new PrepareError(`cannot use the model package ${path.resolve(dir)}: ${(e as Error).message}`);
  }
}

export async function prepareDataset(opts: PrepareRunOptions): Promise<PrepareResult> {
  const t0 = performance.now();
  const emit = (e: PrepareEvent): void => opts.onEvent?.(e);
  const maxSeconds = opts.maxSeconds ?? DEFAULT_MAX_SECONDS;
  const detectEvery = opts.detectEvery ?? 3;
  const fps = PREPARE_FPS;
  if (opts.maxSeconds !== undefined && !(Number.isFinite(opts.maxSeconds) && opts.maxSeconds * fps >= MIN_FRAMES)) {
    throw new PrepareError(`maxSeconds must be at least ${(MIN_FRAMES / fps).toFixed(2)} (${MIN_FRAMES} frames at ${fps} fps), got ${opts.maxSeconds}`);
  }
  checkNumber(opts.detectEvery, 'detectEvery', 1, true);
  checkNumber(opts.size, 'size', 1, true);

  // Folder checks first: nothing is written for a folder that cannot be prepared.
  const clips = await listSourceClips(opts.input);
  const model = await openModel(opts.model, opts.backend);
  const size = opts.size ?? (await packageDefaults(path.resolve(opts.model))).size;
  let lat;
  try {
    lat = latentSize(model.src.arch.vae, size, size);
  } catch {
    throw new PrepareError(`size ${size} does not fit the model's VAE: give a multiple of ${model.spatial} pixels`);
  }
  const out = path.resolve(opts.out ?? opts.input);
  const outSt = await stat(out).catch(() => null);
  if (outSt && !outSt.isDirectory()) throw new PrepareError(`the dataset folder ${out} is a file; give a folder with --out`);

  const previous = await readDataset(out).catch(() => null);
  const previousRefusals = new Map((previous?.clips ?? []).filter((c) => c.status === 'refused' && c.fingerprint).map((c) => [`${c.source}\n${c.fingerprint}`, c]));

  emit({ type: 'start', clips: clips.length, model: model.name, modelHash: model.dataHash, size, out });
  // Work is measured in seconds of source video (a quick probe each; unreadable files count as one).
  const weights = await mapLimit(clips, 4, async (c) => Math.max(1, Math.min(maxSeconds, (await probeMedia(c.file, opts.signal).catch(() => null))?.duration ?? 1)));
  const totalWork = weights.reduce((a, b) => a + b, 0);
  let done = 0;
  let workDone = 0; // excluding cached clips, for the rate
  let workLeft = totalWork;
  const tWork = performance.now();

  let detector: Promise<FaceDetector> | null = null;
  let mesh: Promise<LandmarkDetector> | null = null;
  await removeStaleTemps(path.join(out, cacheKey(model.dataHash)));
  const encoder = await StreamingVaeEncoder.open(model, size);
  const entries: DatasetClip[] = [];
  let cachedCount = 0;
  try {
    for (let i = 0; i < clips.length; i++) {
      const clip = clips[i]!;
      if (opts.signal?.aborted) throw new CancelledError('preparation cancelled');
      emit({ type: 'clip', index: i, clips: clips.length, id: clip.id, source: clip.file });
      const truthFound = await readTruthBeside(clip.file);
      const truth = truthFound && 'truth' in truthFound ? truthFound : null;
      if (truthFound && 'problem' in truthFound) emit({ type: 'warning', id: clip.id, message: truthFound.problem });
      const truthSt = truth ? await stat(truth.file) : null;
      const fingerprint = clipFingerprint({
        bytes: clip.bytes,
        mtimeMs: clip.mtimeMs,
        truth: truthSt ? { bytes: truthSt.size, mtimeMs: truthSt.mtimeMs } : null,
        settings: { size, fps, maxSeconds, detectEvery },
      });
      const dir = clipDir(out, model.dataHash, clip.id);
      const w = weights[i]!;
      const base = { id: clip.id, source: clip.file, fingerprint };

      const cachedInfo = await validCache(dir, fingerprint, model.dataHash);
      const oldRefusal = previousRefusals.get(`${clip.file}\n${fingerprint}`);
      if (cachedInfo || oldRefusal) {
        cachedCount++;
        done += w;
        workLeft -= w;
        const entry: DatasetClip = cachedInfo
          ? { ...base, status: 'accepted', frames: cachedInfo.frames, latentFrames: cachedInfo.latentFrames, seconds: cachedInfo.duration, ...(cachedInfo.warnings.length ? { warnings: cachedInfo.warnings } : {}) }
          : { ...base, status: 'refused', reason: oldRefusal!.reason ?? 'refused by an earlier run' };
        entries.push(entry);
        emit({ type: 'clip-done', id: clip.id, status: entry.status, cached: true, ...(entry.reason ? { reason: entry.reason } : {}), ...(entry.seconds ? { seconds: entry.seconds } : {}) });
        continue;
      }

      let lastStage: PrepareStage | null = null;
      const progress = (stage: PrepareStage, fraction: number): void => {
        if (stage !== lastStage) {
          lastStage = stage;
          emit({ type: 'stage', id: clip.id, stage, message: stageMessage(stage, clip.id) });
        }
        const d = done + fraction * w;
        const wd = workDone + fraction * w;
        const elapsed = (performance.now() - tWork) / 1000;
        const etaS = wd > 0 ? (elapsed / wd) * (workLeft - fraction * w) : null;
        emit({ type: 'progress', done: d, total: totalWork, fraction: d / totalWork, clip: i, clips: clips.length, id: clip.id, stage, elapsedS: elapsed, etaS });
      };
      const warnings: string[] = [];
      let entry: DatasetClip;
      try {
        const info = await prepareClip({
          clip,
          dir,
          fingerprint,
          model,
          size,
          fps,
          maxSeconds,
          detectEvery,
          truth,
          encoder,
          detector: () => (detector ??= blazeFaceDetector({ minScore: 0.5 })),
          mesh: () => (mesh ??= faceMeshDetector()),
          ...(opts.signal ? { signal: opts.signal } : {}),
          progress,
          warn: (message) => {
            warnings.push(message);
            emit({ type: 'warning', id: clip.id, message });
          },
        });
        entry = { ...base, status: 'accepted', frames: info.frames, latentFrames: info.latentFrames, seconds: info.duration, ...(warnings.length ? { warnings } : {}) };
      } catch (e) {
        if (e instanceof CancelledError || opts.signal?.aborted) throw e instanceof CancelledError ? e : new CancelledError('preparation cancelled');
        // A refusal is about the clip and is remembered (by its fingerprint) for the next run; any other
        // failure may be passing (memory, a backend), so that clip is tried again next time.
        const refused = e instanceof ClipRefused;
        const reason = refused ? e.message : `${clip.file} could not be prepared: ${(e as Error).message}`;
        entry = { id: clip.id, source: clip.file, ...(refused ? { fingerprint } : {}), status: 'refused', reason, ...(warnings.length ? { warnings } : {}) };
      }
      done += w;
      workDone += w;
      workLeft -= w;
      entries.push(entry);
      // The bar moves to the clip's end even when it was refused early.
      const elapsed = (performance.now() - tWork) / 1000;
      emit({ type: 'progress', done, total: totalWork, fraction: done / totalWork, clip: i, clips: clips.length, id: clip.id, stage: lastStage ?? 'probe', elapsedS: elapsed, etaS: workDone > 0 ? (elapsed / workDone) * workLeft : null });
      emit({ type: 'clip-done', id: clip.id, status: entry.status, cached: false, ...(entry.reason ? { reason: entry.reason } : {}), ...(entry.seconds ? { seconds: entry.seconds } : {}) });
    }
  } finally {
    await encoder.release();
  }

  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    created: new Date().toISOString(),
    model: { name: model.name, dir: path.resolve(opts.model), hash: model.dataHash },
    cache: cacheKey(model.dataHash),
    size,
    fps,
    latent: { channels: model.channels, height: lat.height, width: lat.width, stride: model.stride },
    speechDim: model.refree.speechDim,
    input: path.resolve(opts.input),
    clips: entries,
  };
  await writeDataset(out, manifest);
  const accepted = entries.filter((c) => c.status === 'accepted').length;
  return {
    dataset: out,
    manifestFile: path.join(out, DATASET_FILE),
    manifest,
    accepted,
    refused: entries.length - accepted,
    cached: cachedCount,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

/** `fn` over `items` with at most `limit` running at once (one ffprobe per clip, not hundreds at once). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function stageMessage(stage: PrepareStage, id: string): string {
  switch (stage) {
    case 'probe':
      return `${id}: reading the speech`;
    case 'track':
      return `${id}: tracking the face`;
    case 'encode':
      return `${id}: cropping, masking and encoding the frames`;
    case 'write':
      return `${id}: writing the cache`;
  }
}
