// portrait + speech → lip-synced, watermarked talking-head video (DESIGN 6, 7, 11).
//
//   1. the output folder is checked first (nothing is computed for a video that cannot be written);
//   2. the portrait is decoded (sharp) and cropped around the face to the model's size; the speech is
//      decoded by ffmpeg to 16 kHz mono and trimmed (silence warns, generation continues);
//   3. speech features are aligned to the video frames (fps, default 15) for the whole padded clip
//      (a few hundred KB for 10 min; the audio itself is 3.8 MB/min);
//   4. the portrait is VAE-encoded as the first-frame latent (TI2V conditioning), and, for a package
//      trained with the portrait anchor, also the anchor frame of every later chunk (chunks.ts);
//   5. chunk by chunk (chunks.ts): sample the chunk's latents with seeded noise of stream = chunk index,
//      checkpoint them (job-files.ts), decode the chunk's new latent frames with the streaming VAE
//      decoder, watermark every frame (invisible payload + visible label) and stream it to ffmpeg;
//      only the previous chunk's latents are kept, so memory is flat in the speech length;
//   6. ffmpeg muxes the trimmed speech (AAC) and the AI-generated metadata; the sidecar JSON records every
//      setting, the seed, the model hash and the timings; the job folder is removed on success.
// Cancelling (AbortSignal) stops between two model runs: ffmpeg is killed, the partial video removed,
// the chunk checkpoints kept so `resume: true` continues from the last finished chunk.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { CancelledError } from '../common/engine-errors.js';
import { sample } from '../generate/sampler.js';
import { guidancePlan } from '../generate/guidance.js';
import type { GuidanceBranch, StepTime } from '../generate/types.js';
import { latentPreview, uncalibratedProjection } from '../generate/preview.js';
import type { PreviewImage } from '../generate/preview.js';
import { loadAudio, DEFAULT_MAX_AUDIO_SECONDS } from '../media/audio-input.js';
import { MediaError } from '../media/errors.js';
import { cropFace } from '../media/face-crop.js';
import type { CropBox } from '../media/face-crop.js';
import { loadImage } from '../media/image-input.js';
import { VideoWriter, partialPath, preflightOutput } from '../media/video-writer.js';
import type { X264Preset } from '../media/video-writer.js';
import { videoFrameCount } from '../model/speech/align.js';
import { metadataArgs } from '../watermark/metadata.js';
import { payloadFor, payloadHex } from '../watermark/message.js';
import type { VisibleLabelOptions } from '../watermark/visible.js';
import { createWatermarker } from '../watermark/watermarker.js';
import { planChunks } from './chunks.js';
import { modelPreviewProjection } from './preview-colours.js';
import type { ChunkPlan } from './chunks.js';
import { packageDefaults } from './defaults.js';
import { builtInModelDir } from './demo-model.js';
import { chunkFile, jobDir, loadChunk, readJob, removeJob, saveChunk, writeFileAtomic, writeJob } from './job-files.js';
import type { JobFile } from './job-files.js';
import { DitRunner, VaeStream, openGenerationModel, packageHash, speechFeatures } from './model.js';
import { readManifest } from '../model/package/manifest.js';
import { openPackageSource } from '../model/package/source.js';
import type { GenerationModel } from './model.js';
import type { Backend } from '../runtime/session.js';

export interface GenerateOptions {
  portrait: string;
  audio: string;
  /** Seconds into the audio where the speech starts / ends. */
  start?: number;
  end?: number;
  /** Model package folder (default: the built-in model, refree-mini). */
  model?: string;
  /**
   * A fine-tuned adapter package (a training run's adapter/ folder) of `model` (or of the built-in
   * model): generation uses it instead, after checking it was trained on exactly that model.
   */
  adapter?: string;
  steps?: number;
  seed?: number;
  fps?: number;
  /** Square size the model generates at, in pixels (a multiple of the VAE's spatial factor). */
  size?: number;
  /** Square size of the written video (default: the package's outputSize, else `size`); frames are resized with sharp. */
  outputSize?: number;
  guidance?: number;
  shift?: number;
  solver?: 'euler' | 'unipc';
  /** Continue from the chunk checkpoints of an interrupted run with the same settings. */
  resume?: boolean;
  /** Folder for the job file and chunk checkpoints (default `<out>.refree-job`). */
  workDir?: string;
  out: string;
  crf?: number;
  preset?: X264Preset;
  /** Longest speech accepted, seconds (default 600). */
  maxSpeechSeconds?: number;
  /** The visible label (on by default) or false. */
  label?: VisibleLabelOptions | false;
  /** Invisible-watermark strength (watermark/invisible.ts; default its DEFAULT_STRENGTH). */
  watermarkStrength?: number;
  /** A crop box chosen by the person (skips face detection). */
  crop?: CropBox;
  /** false: skip face detection and use the centred square (tests, already cropped portraits). */
  detectFace?: boolean;
  /** A preview event every this many sampler steps (default 2; 0 = none). */
  previewEvery?: number;
  /** Overrides of the package's chunking (tests, benchmarks). */
  chunkLatentFrames?: number;
  motionLatentFrames?: number;
  portraitAnchor?: boolean;
  backend?: Backend;
  /** Fixed job id (default: derived from the fingerprint, so the same inputs give the same payload). */
  jobId?: string;
  /** Called when chunk `index` has been checkpointed (tests use it to crash a run at a known place). */
  onChunkSaved?: (index: number) => void;
}

export type GenerateEvent =
  | { type: 'stage'; stage: 'inputs' | 'model' | 'portrait' | 'generating' | 'finishing'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'chunk'; index: number; chunks: number; resumed: boolean }
  | {
      type: 'progress';
      /** Work units done / total (sampler steps × passes, plus one per decoded latent frame). */
      done: number;
      total: number;
      fraction: number;
      chunk: number;
      chunks: number;
      step: number;
      steps: number;
      framesWritten: number;
      frames: number;
      elapsedS: number;
      /** Seconds left at the current rate (null until the first unit is done). */
      etaS: number | null;
    }
  | ({ type: 'preview'; chunk: number; step: number; steps: number } & PreviewImage);

export interface GenerateHooks {
  onEvent?: (e: GenerateEvent) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  output: string;
  sidecar: string;
  jobId: string;
  payload: string;
  model: { name: string; hash: string; dir: string };
  seed: number;
  frames: number;
  fps: number;
  width: number;
  height: number;
  /** frames / fps. */
  duration: number;
  speechDuration: number;
  /** SHA-256 over every frame's RGB bytes as written to the encoder, in order. */
  frameDigest: string;
  resumedChunks: number;
  chunks: number;
  timings: Record<string, number>;
  warnings: string[];
}

export class GenerateError extends Error {
  override name = 'GenerateError';
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function checkInt(v: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new GenerateError(`${what} must be a whole number from ${min} to ${max} (got ${v})`);
  return v;
}

function checkNum(v: number, what: string, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max) throw new GenerateError(`${what} must be a number from ${min} to ${max} (got ${v})`);
  return v;
}

const sha = (...parts: (string | Uint8Array)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** [3, 1, S, S] in [-1, 1] from interleaved RGB8. */
function rgbToPlanar(rgb: Uint8Array, size: number): Float32Array {
  const P = size * size;
  const out = new Float32Array(3 * P);
  for (let p = 0; p < P; p++) for (let c = 0; c < 3; c++) out[c * P + p] = rgb[p * 3 + c]! / 127.5 - 1;
  return out;
}

/** Frame t of pixels [3, n, H, W] in [-1, 1] as interleaved RGB8. */
function planarFrameToRgb(pix: Float32Array, n: number, t: number, P: number, out: Uint8Array): Uint8Array {
  for (let c = 0; c < 3; c++) {
    const base = (c * n + t) * P;
    for (let p = 0; p < P; p++) {
      const v = Math.round((pix[base + p]! + 1) * 127.5);
      out[p * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** Latent frames [from, to) of a [C, F, h, w] array as [C, to − from, h, w]. */
function framesOf(lat: Float32Array, C: number, F: number, hw: number, from: number, to: number): Float32Array {
  const n = to - from;
  const out = new Float32Array(C * n * hw);
  for (let c = 0; c < C; c++) out.set(lat.subarray((c * F + from) * hw, (c * F + to) * hw), c * n * hw);
  return out;
}

/** Writes cond [C, M, h, w] into frames 0..M−1 of x [C, F, h, w]. */
function putCond(x: Float32Array, cond: Float32Array, C: number, F: number, M: number, hw: number): void {
  for (let c = 0; c < C; c++) x.set(cond.subarray(c * M * hw, (c + 1) * M * hw), c * F * hw);
}

export async function generateVideo(opts: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    timings[name] = +((now - since) / 1000).toFixed(3);
    return now;
  };
  const emit = (e: GenerateEvent): void => hooks.onEvent?.(e);
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    emit({ type: 'warning', message: m });
  };
  const signal = hooks.signal;
  const checkCancel = (): void => {
    if (signal?.aborted) throw new CancelledError('generation was cancelled');
  };
  if (!opts.out) throw new GenerateError('say where to write the video (out)');
  const output = path.resolve(opts.out);
  if (!/\.(mp4|webm)$/i.test(output)) throw new GenerateError(`the output must be an .mp4 or .webm file (got ${opts.out})`);

  // 1. The output folder, before any work (preflight leaves an empty partial file: remove it again).
  await preflightOutput(output);
  await rm(partialPath(output), { force: true });

  // Model and its defaults (default: the built-in refree-mini package shipped in assets/models/).
  emit({ type: 'stage', stage: 'model', message: 'opening the model' });
  let tm = performance.now();
  const baseDir = opts.model ? path.resolve(opts.model) : await builtInModelDir();
  const pkgDir = opts.adapter ? await checkedAdapter(path.resolve(opts.adapter), baseDir) : baseDir;
  const defaults = await packageDefaults(pkgDir);
  const model: GenerationModel = await openGenerationModel(pkgDir, { backend: opts.backend });
  const steps = checkInt(opts.steps ?? defaults.steps, 'steps', 1, 1000);
  const seed = checkInt(opts.seed ?? 0, 'seed', 0);
  const fps = checkNum(opts.fps ?? defaults.fps, 'fps', 1, 60);
  const size = checkInt(opts.size ?? defaults.size, 'size', model.spatial, 4096);
  if (size % model.spatial !== 0) throw new GenerateError(`size must be a multiple of ${model.spatial} for this model (got ${size})`);
  const outSize = checkInt(opts.outputSize ?? (opts.size === undefined ? (defaults.outputSize ?? size) : size), 'output size', 16, 4096);
  if (outSize % 2) throw new GenerateError(`the output size must be even (got ${outSize})`);
  const guidance = checkNum(opts.guidance ?? defaults.guidance, 'guidance', 0, 30);
  const shift = checkNum(opts.shift ?? defaults.shift, 'shift', 0.01, 100);
  const solver = opts.solver ?? defaults.solver;
  const chunkLatentFrames = opts.chunkLatentFrames ?? defaults.chunkLatentFrames;
  const motionLatentFrames = opts.motionLatentFrames ?? defaults.motionLatentFrames;
  const portraitAnchor = opts.portraitAnchor ?? defaults.portraitAnchor ?? false;
  const maxSpeech = opts.maxSpeechSeconds ?? DEFAULT_MAX_AUDIO_SECONDS;
  tm = lap('model', tm);

  // 2. Inputs.
  emit({ type: 'stage', stage: 'inputs', message: 'reading the portrait and the speech' });
  const img = await loadImage(opts.portrait);
  img.warnings.forEach(warn);
  const crop = await cropFace(img, { size, ...(opts.crop ? { box: opts.crop } : {}), ...(opts.detectFace === false && !opts.crop ? { box: centerBox(img.width, img.height) } : {}) });
  crop.warnings.forEach(warn);
  checkCancel();
  const audio = await loadAudio(opts.audio, { start: opts.start, end: opts.end, maxDuration: maxSpeech, signal });
  audio.warnings.forEach(warn);
  const frames = Math.max(1, videoFrameCount(audio.duration, fps));
  let plan: ChunkPlan;
  try {
    plan = planChunks(frames, { chunkLatentFrames, motionLatentFrames, portraitAnchor, stride: model.stride });
  } catch (e) {
    throw new GenerateError(`chunking: ${(e as Error).message}`);
  }
  tm = lap('inputs', tm);

  // Identity of the job: everything that determines the frames.
  const settings = { steps, seed, fps, size, outputSize: outSize, guidance, shift, solver, chunkLatentFrames: plan.chunkFrames, motionLatentFrames, ...(portraitAnchor ? { portraitAnchor } : {}), start: audio.start, end: audio.end, label: opts.label ?? {}, watermarkStrength: opts.watermarkStrength ?? null };
  const fingerprint = sha(JSON.stringify(settings), '|', model.hash, '|', crop.image.data, '|', new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength));
  const jobId = opts.jobId ?? `job-${fingerprint.slice(0, 16)}`;
  const payload = payloadFor(jobId, model.hash);
  const dir = opts.workDir ? path.resolve(opts.workDir) : jobDir(output);
  let job: JobFile | null = null;
  if (opts.resume) {
    job = await readJob(dir);
    if (!job) warn(`nothing to resume in ${dir}; starting from the beginning`);
    else if (job.fingerprint !== fingerprint) {
      throw new GenerateError(`the interrupted job in ${dir} was made with other inputs or settings; run it again with exactly the same options, or without --resume to start over`);
    }
  } else {
    await removeJob(dir);
  }
  const now = new Date().toISOString();
  job ??= { format: 'refree-generate-job/1', jobId, fingerprint, output, chunks: plan.chunks.length, done: [], created: now, updated: now };
  await writeJob(dir, job);

  // 3. Speech features for the whole (padded) clip: [paddedVideoFrames, speechDim].
  const D = model.refree.speechDim;
  const features = await speechFeatures(model, audio.samples, fps, plan.paddedVideoFrames);
  tm = lap('speechFeatures', tm);

  // Live previews in the model's own colours: a map fitted to its VAE once per package (preview-fit.ts).
  // A failed fit costs only the colours of the previews, never the video.
  let previewMap = uncalibratedProjection(model.channels);
  if ((opts.previewEvery ?? 2) > 0) {
    try {
      const fitting = { type: 'stage', stage: 'model', message: 'fitting the live-preview colours to this model (once per model)' } as const;
      previewMap = (await modelPreviewProjection(model, { onWarning: warn, onFitStart: () => emit(fitting), signal })).projection;
    } catch (e) {
      checkCancel();
      warn(`live previews are shown in grey: fitting their colours to this model failed (${(e as Error).message})`);
    }
    tm = lap('previewColours', tm);
  }

  // 4. Sessions and the portrait latent.
  emit({ type: 'stage', stage: 'portrait', message: 'encoding the portrait' });
  const C = model.channels;
  const h = size / model.spatial;
  const w = h;
  const hw = h * w;
  const F = plan.chunkFrames;
  const s = model.stride;
  const dit = await DitRunner.open(model, { frames: F, h, w });
  let vae: VaeStream | null = null;
  let writer: VideoWriter | null = null;
  try {
    vae = await VaeStream.open(model, size);
    const z0 = await vae.encodeFrame(rgbToPlanar(crop.image.data, size));
    tm = lap('sessionsAndPortrait', tm);
    checkCancel();

    // Both watermark layers go on at the written size, after a smooth upscale (the demo: 128 → 256).
    // Embedding at the model's size and upscaling by nearest neighbour was 8× cheaper per frame but
    // left the mark at its limit: its blocky chips lose their edges in x264, and on busy, flickering
    // frames (high guidance, few steps) the coded-bit agreement after CRF 20 fell to 0.83–0.89 and one
    // export in a few failed to read back. At the written size it reads 0.88–0.92 on the same videos.
    const watermark = createWatermarker({ payload, visible: opts.label ?? {}, ...(opts.watermarkStrength !== undefined ? { strength: opts.watermarkStrength } : {}) });
    const container = output.toLowerCase().endsWith('.webm') ? 'webm' : 'mp4';
    writer = await VideoWriter.open({
      output,
      width: outSize,
      height: outSize,
      fps,
      audio: { kind: 'pcm', samples: audio.samples, sampleRate: audio.sampleRate },
      crf: opts.crf,
      preset: opts.preset ?? 'veryfast',
      extraArgs: metadataArgs({ appVersion: appVersion(), modelName: model.name, modelHash: model.hash, jobId, payload }, { container, movflags: container === 'mp4' ? ['+faststart'] : [] }),
      expectedFrames: frames,
      signal,
    });

    // 5. Chunks.
    emit({ type: 'stage', stage: 'generating', message: `generating ${frames} frames in ${plan.chunks.length} chunk(s) of ${F} latent frames, ${steps} steps` });
    const passes = guidancePlan({ audio: guidance }).branches.length;
    const toSample = plan.chunks.filter((c) => !(opts.resume && existsSync(chunkFile(dir, c.index)))).length;
    // Work = model passes still to run + latent frames to decode. The two kinds cost very different
    // amounts (a tiny DiT pass is milliseconds, a decoded latent frame is 4 frames of VAE), so the ETA
    // keeps a measured rate for each and the bar shows the share of the estimated time already spent.
    const work = { sample: { total: toSample * steps * passes, done: 0, seconds: 0 }, decode: { total: plan.latentFrames, done: 0, seconds: 0 } };
    const total = work.sample.total + work.decode.total;
    let done = 0;
    const genStart = performance.now();
    let framesWritten = 0;
    const unit = (kind: 'sample' | 'decode', since: number): void => {
      work[kind].done++;
      work[kind].seconds += (performance.now() - since) / 1000;
      done++;
    };
    const progress = (chunk: number, step: number): void => {
      const elapsed = (performance.now() - genStart) / 1000;
      const rate = (k: 'sample' | 'decode'): number | null => (work[k].done ? work[k].seconds / work[k].done : null);
      const rs = rate('sample');
      const rd = rate('decode');
      const left = (k: 'sample' | 'decode'): number => work[k].total - work[k].done;
      const eta = rs === null && rd === null ? null : left('sample') * (rs ?? rd!) + left('decode') * (rd ?? rs! * 8);
      const fraction = eta === null ? 0 : done === total ? 1 : elapsed / (elapsed + eta);
      emit({ type: 'progress', done, total, fraction, chunk, chunks: plan.chunks.length, step, steps, framesWritten, frames, elapsedS: +elapsed.toFixed(3), etaS: eta === null ? null : +eta.toFixed(1) });
    };
    const digest = createHash('sha256');
    const rgb = new Uint8Array(size * size * 3);
    // Resized frames (see the watermark note above); sharp (libvips) is deterministic, so frame hashes still reproduce.
    const resize = async (src: Uint8Array): Promise<Uint8Array> =>
      outSize === size ? src : new Uint8Array(await sharp(src, { raw: { width: size, height: size, channels: 3 } }).resize({ width: outSize, height: outSize, kernel: 'lanczos3' }).raw().toBuffer());
    const speechOn = new Float32Array(videoFramesFor(F, s));
    const speechOff = new Float32Array(videoFramesFor(F, s)).fill(1);
    const previewEvery = opts.previewEvery ?? 2;
    let prev: Float32Array | null = null;
    let resumed = 0;
    let tSample = 0;
    let tDecode = 0;
    let tVae = 0;
    let tMark = 0;
    const shape = [C, F, h, w] as const;

    for (const chunk of plan.chunks) {
      checkCancel();
      let lat: Float32Array | null = null;
      if (opts.resume) {
        // The checkpoint file is the truth (written atomically, tagged with the fingerprint); job.json
        // may lag one chunk behind when the process died between the two writes.
        lat = await loadChunk(dir, chunk.index, shape, fingerprint);
        if (lat) {
          resumed++;
          if (!job.done.includes(chunk.index)) job.done = [...job.done, chunk.index].sort((a, b) => a - b);
        } else if (job.done.includes(chunk.index)) {
          warn(`the checkpoint of chunk ${chunk.index} is missing or damaged; generating it again`);
          job.done = job.done.filter((d) => d !== chunk.index);
        }
      }
      emit({ type: 'chunk', index: chunk.index, chunks: plan.chunks.length, resumed: lat !== null });
      if (!lat) {
        const ts = performance.now();
        const M = chunk.cond;
        const cond = chunk.index === 0 ? z0 : framesOf(prev!, C, F, hw, F - M, F);
        if (chunk.anchored) putCond(cond, z0, C, M, 1, hw);
        const row0 = s * chunk.start;
        const speech = features.subarray(row0 * D, (row0 + videoFramesFor(F, s)) * D);
        const input = new Float32Array(C * F * hw);
        const velocity = async (x: Float32Array, time: StepTime, branch: GuidanceBranch): Promise<Float32Array> => {
          const tu = performance.now();
          // Motion frames beyond frame 0 (the sampler handles frame 0): clean values and timestep 0.
          let xin = x;
          const t = time.frameTimesteps;
          if (M > 1) {
            input.set(x);
            putCond(input, cond, C, F, M, hw);
            xin = input;
            for (let f = 0; f < M; f++) t[f] = 0;
          }
          const v = await dit.velocity(xin, t, model.context, speech, branch.audio ? speechOn : speechOff);
          if (M > 1) for (let c = 0; c < C; c++) v.fill(0, (c * F + 1) * hw, (c * F + M) * hw);
          unit('sample', tu);
          progress(chunk.index, time.step);
          return v;
        };
        const r = await sample({
          steps,
          shift,
          solver,
          guidance: { audio: guidance },
          seed,
          noiseStream: chunk.index,
          latentShape: shape,
          firstFrameLatent: framesOf(cond, C, M, hw, 0, 1),
          velocity,
          signal,
          onStep: (i, n, x0) => {
            if (previewEvery > 0 && ((i + 1) % previewEvery === 0 || i === n - 1)) {
              emit({ type: 'preview', chunk: chunk.index, step: i + 1, steps: n, ...latentPreview(x0, shape, { projection: previewMap, scale: model.spatial }) });
            }
          },
        });
        lat = r.latents;
        putCond(lat, cond, C, F, M, hw);
        try {
          await saveChunk(dir, chunk.index, lat, shape, fingerprint);
          job.done = [...job.done, chunk.index].sort((a, b) => a - b);
          await writeJob(dir, job);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC' || /ENOSPC|no space left/i.test((e as Error).message)) {
            throw new MediaError('disk-full', `the disk is full while writing ${output} (saving chunk ${chunk.index} of ${plan.chunks.length} in ${dir}): free some space and run again with --resume`, output);
          }
          throw e;
        }
        opts.onChunkSaved?.(chunk.index);
        tSample += performance.now() - ts;
      }

      // Decode this chunk's new latent frames and stream them out.
      const td = performance.now();
      for (let j = chunk.emitFrom; j < chunk.emitTo; j++) {
        checkCancel();
        const tu = performance.now();
        const pix = await vae.decodeNext(framesOf(lat, C, F, hw, j - chunk.start, j - chunk.start + 1));
        tVae += performance.now() - tu;
        const n = j === 0 ? 1 : s;
        for (let t = 0; t < n && framesWritten < frames; t++) {
          const tw = performance.now();
          planarFrameToRgb(pix, n, t, size * size, rgb);
          const frame = await resize(rgb);
          watermark.apply(frame, outSize, outSize, framesWritten);
          tMark += performance.now() - tw;
          digest.update(frame);
          await writer.writeFrame(frame);
          framesWritten++;
        }
        unit('decode', tu);
        progress(chunk.index, steps);
      }
      tDecode += performance.now() - td;
      prev = lat;
    }
    timings.sampling = +(tSample / 1000).toFixed(3);
    timings.decodeAndWrite = +(tDecode / 1000).toFixed(3);
    timings.vaeDecode = +(tVae / 1000).toFixed(3);
    timings.watermark = +(tMark / 1000).toFixed(3);

    // 6. Finish.
    emit({ type: 'stage', stage: 'finishing', message: 'finishing the video' });
    tm = performance.now();
    const written = await writer.finish();
    writer = null;
    lap('encoderFinish', tm);
    timings.total = +((performance.now() - t0) / 1000).toFixed(3);
    const result: GenerateResult = {
      output,
      sidecar: `${output}.json`,
      jobId,
      payload: payloadHex(payload),
      model: { name: model.name, hash: model.hash, dir: pkgDir },
      seed,
      frames: written.frames,
      fps,
      width: outSize,
      height: outSize,
      duration: written.duration,
      speechDuration: audio.duration,
      frameDigest: digest.digest('hex'),
      resumedChunks: resumed,
      chunks: plan.chunks.length,
      timings,
      warnings,
    };
    const sidecar = {
      format: 'refree-generate/1',
      app: `ReFree Studio ${appVersion()}`,
      created: new Date().toISOString(),
      ...result,
      settings: { ...settings, crf: opts.crf ?? 20, preset: opts.preset ?? 'veryfast', backend: model.backend, dtype: model.dtype, maxSpeechSeconds: maxSpeech },
      inputs: {
        portrait: { file: path.resolve(opts.portrait), format: img.format, width: img.sourceWidth, height: img.sourceHeight, crop: crop.box, cropSource: crop.source },
        audio: { file: path.resolve(opts.audio), start: audio.start, end: audio.end, duration: audio.duration, rmsDb: Number.isFinite(audio.rmsDb) ? +audio.rmsDb.toFixed(2) : null, silent: audio.silent },
      },
      fingerprint,
    };
    await writeFileAtomic(result.sidecar, `${JSON.stringify(sidecar, null, 2)}\n`);
    await removeJob(dir);
    return result;
  } catch (e) {
    // The partial video goes; the chunk checkpoints stay for resume.
    if (writer) await writer.abort(e instanceof Error ? e : new Error(String(e)));
    if (signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError('generation was cancelled');
    throw e;
  } finally {
    await dit.release();
    await vae?.release();
  }
}

const videoFramesFor = (latentFrames: number, s: number): number => s * (latentFrames - 1) + 1;

/** The adapter folder, once it is known to be a fine-tune of the package in `baseDir`. */
async function checkedAdapter(adapterDir: string, baseDir: string): Promise<string> {
  const { manifest } = await readManifest(adapterDir).catch((e: Error) => {
    throw new GenerateError(`the adapter ${adapterDir} cannot be opened: ${e.message}`);
  });
  if (!manifest.adapter) throw new GenerateError(`${adapterDir} is a model package, not a fine-tuned adapter: pass it as --model instead`);
  const hash = packageHash(await openPackageSource(baseDir));
  if (manifest.adapter.base.hash !== hash) {
    throw new GenerateError(`the adapter ${adapterDir} was trained on "${manifest.adapter.base.name}" (${manifest.adapter.base.hash.slice(0, 12)}), not on the model in ${baseDir} (${hash.slice(0, 12)}): use it with the model it was trained on`);
  }
  return adapterDir;
}

function centerBox(width: number, height: number): CropBox {
  const sz = Math.min(width, height);
  return { x: Math.floor((width - sz) / 2), y: Math.floor((height - sz) / 2), size: sz };
}

