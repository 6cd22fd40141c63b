// One source clip → one prepared clip (or a refusal with its reason). Three reads of the file:
//   1. probe + speech: streams (a video? a sound track?), length (cut to maxSeconds with a warning), the
//      16 kHz mono speech (silent → refused);
//   2. track pass: frames at 15 fps scaled to ≤ 640 px, BlazeFace on every k-th frame → the smoothed face
//      track and its square crop (track.ts); too few frames or too few faces → refused;
//   3. crop pass: frames at 15 fps, cut along the track and resized to the model's size, streamed into
//      the VAE encoder chunk by chunk (the longest 4n+1 prefix), with per-frame lip and face masks (from
//      the synthetic truth beside the clip, else from FaceMesh landmarks) accumulated on the latent grid.
// Then the speech features of the kept frames, and the cache folder written as a whole.
import sharp from 'sharp';
import { CancelledError } from '../../common/engine-errors.js';
import { loadAudio } from '../../media/audio-input.js';
import type { DecodedAudio } from '../../media/audio-input.js';
import { MediaError, fmtSeconds } from '../../media/errors.js';
import type { FaceDetector } from '../../media/face-detector.js';
import { hasMovingVideo, probeMedia } from '../../media/probe.js';
import type { GenerationModel } from '../../pipeline/model.js';
import { speechFeatures } from '../../pipeline/model.js';
import { rasterizeEllipse } from '../../synth/masks.js';
import type { ClipTruth } from '../../synth/types.js';
import { writeClipCache } from './cache.js';
import { FrameReadError, displaySize, fitSize, readRateFrames } from './frames.js';
import type { FaceLandmarks, LandmarkDetector } from './landmarks.js';
import type { Point } from './masks.js';
import { LatentMask, mean, rasterizePolygon } from './masks.js';
import type { FaceSample } from './track.js';
import { faceTrack } from './track.js';
import { truthEllipse } from './truth.js';
import type { ClipInfo, CropBox, PrepareStage } from './types.js';
import { CLIP_FORMAT, MIN_FRAMES } from './types.js';
import type { StreamingVaeEncoder } from './vae-encoder.js';
import type { SourceClip } from './scan.js';

/** A clip that cannot be used, with the sentence that says why. */
export class ClipRefused extends Error {
  override name = 'ClipRefused';
}

export interface ClipJob {
  clip: SourceClip;
  dir: string;
  fingerprint: string;
  model: GenerationModel;
  size: number;
  fps: number;
  maxSeconds: number;
  detectEvery: number;
  truth: { truth: ClipTruth; file: string } | null;
  encoder: StreamingVaeEncoder;
  detector: () => Promise<FaceDetector>;
  mesh: () => Promise<LandmarkDetector>;
  signal?: AbortSignal;
  /** Progress within the clip: stage and fraction 0..1 of the whole clip's work. */
  progress: (stage: PrepareStage, fraction: number) => void;
  warn: (message: string) => void;
}

/** Detection frames are at most this large (BlazeFace itself looks at 256 px). */
const DETECT_SIDE = 640;
/** FaceMesh runs on crops at least this large (its own input is 192 px around the face). */
const MESH_SIZE = 256;
/** Share of sampled frames / cropped frames that must show a face. */
const MIN_FACE_SHARE = 0.5;
const STAGE_END = { probe: 0.05, track: 0.35, encode: 0.97, write: 1 } as const;

const checkCancel = (signal?: AbortSignal): void => {
  if (signal?.aborted) throw new CancelledError('preparation cancelled');
};

async function readSpeech(job: ClipJob): Promise<{ audio: DecodedAudio; videoSeconds: number; width: number; height: number }> {
  const file = job.clip.file;
  const probe = await probeMedia(file, job.signal).catch((e: unknown) => {
    checkCancel(job.signal);
    throw e;
  });
  if (!probe) throw new ClipRefused(`${file} is not a video ffmpeg can read (unreadable or damaged)`);
  const video = probe.streams.find((s) => s.codecType === 'video' && !s.attachedPic);
  if (!hasMovingVideo(probe) || !video?.width || !video.height) throw new ClipRefused(`${file} has no video stream`);
  const shown = await displaySize(file, job.signal);
  if (!shown) throw new ClipRefused(`${file} has no video stream`);
  const audioStream = probe.streams.find((s) => s.codecType === 'audio');
  if (!audioStream) throw new ClipRefused(`${file} has no sound track: training needs the speech that goes with the face`);
  const videoSeconds = video.duration ?? probe.duration ?? 0;
  if (videoSeconds > 0 && videoSeconds * job.fps < MIN_FRAMES - 0.5) throw tooShort(file, Math.round(videoSeconds * job.fps), job.fps);
  const audioSeconds = audioStream.duration ?? probe.duration ?? 0;
  let audio: DecodedAudio;
  try {
    audio = await loadAudio(file, { ...(audioSeconds > job.maxSeconds ? { end: job.maxSeconds } : {}), maxDuration: job.maxSeconds + 1, ...(job.signal ? { signal: job.signal } : {}) });
  } catch (e) {
    checkCancel(job.signal);
    if (e instanceof MediaError) throw new ClipRefused(e.message);
    throw e;
  }
  if (audio.silent) throw new ClipRefused(`${file} has no speech: its sound track is silent (RMS ${Number.isFinite(audio.rmsDb) ? audio.rmsDb.toFixed(1) : '−∞'} dBFS, below −50 dBFS)`);
  return { audio, videoSeconds, ...shown };
}

const tooShort = (file: string, frames: number, fps: number): ClipRefused =>
  new ClipRefused(`${file} is too short: ${frames} frames (${fmtSeconds(frames / fps)}) at ${fps} fps; at least ${MIN_FRAMES} frames (${fmtSeconds(MIN_FRAMES / fps)}) are needed`);

/** Pass 1: the face on every k-th frame, in source pixels; also counts the frames. */
async function trackPass(job: ClipJob, width: number, height: number, expected: number): Promise<{ samples: FaceSample[]; frames: number }> {
  const det = await job.detector();
  const small = fitSize(width, height, DETECT_SIDE);
  const sx = width / small.width;
  const sy = height / small.height;
  const samples: FaceSample[] = [];
  let frames = 0;
  for await (const f of readRateFrames(job.clip.file, { fps: job.fps, ...small, maxSeconds: job.maxSeconds, ...(job.signal ? { signal: job.signal } : {}) })) {
    frames++;
    if (f.index % job.detectEvery !== 0) continue;
    checkCancel(job.signal);
    const faces = await det.detect({ data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength), width: f.width, height: f.height });
    const face = faces.reduce<(typeof faces)[number] | null>((a, b) => (!a || b.width * b.height > a.width * a.height ? b : a), null);
    samples.push({ frame: f.index, face: face ? { cx: (face.x + face.width / 2) * sx, cy: (face.y + face.height / 2) * sy, side: Math.max(face.width * sx, face.height * sy) } : null });
    job.progress('track', STAGE_END.probe + (STAGE_END.track - STAGE_END.probe) * Math.min(1, frames / Math.max(1, expected)));
  }
  return { samples, frames };
}

/** [3, n, S, S] planar in [−1, 1] from n interleaved RGB frames. */
function toPlanar(frames: readonly Uint8Array[], size: number): Float32Array {
  const P = size * size;
  const n = frames.length;
  const out = new Float32Array(3 * n * P);
  for (let t = 0; t < n; t++) {
    const rgb = frames[t]!;
    for (let c = 0; c < 3; c++) {
      const base = (c * n + t) * P;
      for (let p = 0; p < P; p++) out[base + p] = rgb[p * 3 + c]! / 127.5 - 1;
    }
  }
  return out;
}

function cropResize(data: Uint8Array, width: number, height: number, box: CropBox, size: number): Promise<Buffer> {
  return sharp(data, { raw: { width, height, channels: 3 } })
    .extract({ left: box.x, top: box.y, width: box.size, height: box.size })
    .resize({ width: size, height: size, kernel: box.size > size ? 'lanczos3' : 'cubic' })
    .raw()
    .toBuffer();
}

const scaled = (pts: readonly Point[], k: number): Point[] => pts.map((p) => ({ x: p.x * k, y: p.y * k }));

export async function prepareClip(job: ClipJob): Promise<ClipInfo> {
  const { clip, model, size, fps, encoder } = job;
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    job.warn(m);
  };
  job.progress('probe', 0);
  const { audio, videoSeconds, width, height } = await readSpeech(job);
  if (videoSeconds > job.maxSeconds) warn(`${clip.file} is ${fmtSeconds(videoSeconds)} long; only its first ${fmtSeconds(job.maxSeconds)} are used`);
  audio.warnings.forEach(warn);
  checkCancel(job.signal);

  const expected = Math.max(1, Math.round(Math.min(videoSeconds || job.maxSeconds, job.maxSeconds) * fps));
  job.progress('track', STAGE_END.probe);
  let pass1;
  try {
    pass1 = await trackPass(job, width, height, expected);
  } catch (e) {
    if (e instanceof FrameReadError) throw new ClipRefused(`${clip.file}: ${e.message}`);
    throw e;
  }
  const total = pass1.frames;
  if (total < MIN_FRAMES) throw tooShort(clip.file, total, fps);
  const found = pass1.samples.filter((s) => s.face).length;
  if (found < MIN_FACE_SHARE * pass1.samples.length) {
    throw new ClipRefused(`no face found in ${clip.file}: a face was detected in ${found} of ${pass1.samples.length} sampled frames; at least half must show one`);
  }
  const track = faceTrack(pass1.samples, { width, height, frames: total, detectEvery: job.detectEvery })!;
  if (found < pass1.samples.length) warn(`${clip.file}: no face in ${pass1.samples.length - found} of ${pass1.samples.length} sampled frames; the crop bridges them`);

  // The longest 4n+1 prefix.
  const stride = encoder.stride;
  const kept = stride * Math.floor((total - 1) / stride) + 1;
  const F = (kept - 1) / stride + 1;
  const { h, w } = encoder;
  const C = model.channels;
  const hw = h * w;

  // Pass 2 decodes at a scale where the crop is still a little larger than what it is resized to.
  const target = Math.max(size, job.truth ? size : MESH_SIZE);
  const sc = Math.min(1, (1.5 * target) / track.summary.cropSize);
  const dw = Math.max(2, 2 * Math.round((width * sc) / 2));
  const dh = Math.max(2, 2 * Math.round((height * sc) / 2));
  const kx = dw / width;
  const ky = dh / height;
  const scaleBox = (b: CropBox): CropBox => {
    const s = Math.max(1, Math.min(dw, dh, Math.round(b.size * Math.min(kx, ky))));
    return { x: Math.min(Math.max(0, Math.round(b.x * kx)), dw - s), y: Math.min(Math.max(0, Math.round(b.y * ky)), dh - s), size: s };
  };

  const latents = new Float32Array(C * F * hw);
  const lip = new LatentMask(size, model.spatial, stride, F);
  const face = new LatentMask(size, model.spatial, stride, F);
  const marks: (FaceLandmarks | null)[] = [];
  const mesh = job.truth ? null : await job.mesh();
  let ref: Buffer | null = null;
  let chunk: Uint8Array[] = [];
  encoder.reset();
  job.progress('encode', STAGE_END.track);
  let n = 0;
  try {
    for await (const f of readRateFrames(clip.file, { fps, width: dw, height: dh, maxFrames: kept, maxSeconds: job.maxSeconds, ...(job.signal ? { signal: job.signal } : {}) })) {
      checkCancel(job.signal);
      const box = scaleBox(track.boxes[f.index]!);
      const rgb = await cropResize(f.data, dw, dh, box, size);
      if (f.index === 0) ref = rgb;
      if (job.truth) {
        const src = { width, height };
        const srcBox = track.boxes[f.index]!;
        lip.add(f.index, rasterizeEllipse(truthEllipse(job.truth.truth, 'lips', f.index, fps, src, srcBox, size), size));
        face.add(f.index, rasterizeEllipse(truthEllipse(job.truth.truth, 'face', f.index, fps, src, srcBox, size), size));
      } else {
        const meshImg = size >= MESH_SIZE ? rgb : await cropResize(f.data, dw, dh, box, MESH_SIZE);
        const m = await mesh!.landmarks({ data: meshImg, width: size >= MESH_SIZE ? size : MESH_SIZE, height: size >= MESH_SIZE ? size : MESH_SIZE });
        const k = size >= MESH_SIZE ? 1 : size / MESH_SIZE;
        marks.push(m && { lips: scaled(m.lips, k), oval: scaled(m.oval, k), score: m.score });
      }
      chunk.push(rgb);
      if (chunk.length === (f.index === 0 ? 1 : stride)) {
        const lf = encoder.encoded;
        const z = await encoder.encodeChunk(toPlanar(chunk, size));
        for (let c = 0; c < C; c++) latents.set(z.subarray(c * hw, (c + 1) * hw), (c * F + lf) * hw);
        chunk = [];
      }
      n = f.index + 1;
      job.progress('encode', STAGE_END.track + (STAGE_END.encode - STAGE_END.track) * (n / kept));
    }
  } catch (e) {
    if (e instanceof FrameReadError) throw new ClipRefused(`${clip.file}: ${e.message}`);
    throw e;
  }
  if (n !== kept || encoder.encoded !== F) throw new ClipRefused(`${clip.file}: the second read gave ${n} frames where the first gave ${total}; the file may be damaged`);

  let landmarkFrames: number | undefined;
  if (!job.truth) {
    landmarkFrames = marks.filter(Boolean).length;
    if (landmarkFrames < MIN_FACE_SHARE * kept) {
      throw new ClipRefused(`no face found in ${clip.file}: face landmarks were found in ${landmarkFrames} of ${kept} cropped frames; at least half must show a face`);
    }
    if (landmarkFrames < kept) warn(`${clip.file}: no face landmarks in ${kept - landmarkFrames} of ${kept} frames; their masks are taken from the nearest frame with landmarks`);
    const P = size * size;
    for (let i = 0; i < kept; i++) {
      // The nearest frame with landmarks (the masks of a frame the mesh missed).
      let m = marks[i] ?? null;
      for (let d = 1; !m; d++) m = marks[i - d] ?? marks[i + d] ?? null;
      lip.add(i, rasterizePolygon(m.lips, size, new Float32Array(P)));
      face.add(i, rasterizePolygon(m.oval, size, new Float32Array(P)));
    }
  }

  job.progress('write', STAGE_END.encode);
  const speech = await speechFeatures(model, audio.samples, fps, kept);
  const speechDim = speech.length / kept;
  const refPng = new Uint8Array(await sharp(ref!, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer());
  const info: ClipInfo = {
    format: CLIP_FORMAT,
    id: clip.id,
    source: clip.file,
    fingerprint: job.fingerprint,
    modelHash: model.dataHash,
    size,
    fps,
    frames: kept,
    latentFrames: F,
    duration: kept / fps,
    sourceDuration: Math.min(videoSeconds || total / fps, job.maxSeconds),
    sourceFrames: total,
    latentShape: [C, F, h, w],
    speechDim,
    track: track.summary,
    masks: {
      source: job.truth ? 'truth' : 'landmarks',
      ...(job.truth ? { truthFile: job.truth.file } : { landmarkFrames }),
      lipMean: Math.round(mean(lip.data) * 1e4) / 1e4,
      faceMean: Math.round(mean(face.data) * 1e4) / 1e4,
    },
    audio: { rmsDb: Math.round(audio.rmsDb * 10) / 10, duration: audio.duration },
    warnings,
  };
  checkCancel(job.signal);
  await writeClipCache(job.dir, info, { latents, latentShape: [C, F, h, w], speech, lipMask: lip.data, faceMask: face.data }, refPng);
  job.progress('write', STAGE_END.write);
  return info;
}
