// evaluateVideo: the lip-sync and motion report of one talking-head video, and, given a synthetic
// clip's truth, how closely it follows that truth. The report is plain JSON (no NaN: missing numbers
// are null) so the trainer, the model card and `refree eval --json` can store it as is.
import type { ClipTruth } from '../synth/types.js';
import { probeVideo, readFrames } from '../media/video-reader.js';
import type { EvalProgress, MotionSummary, MouthMeasure, VideoAnalysis } from './analyse.js';
import { MOUTH_MEASURES, analyseVideo } from './analyse.js';
import { psnr, ssim } from './quality.js';
import { pearson, round, standardizedRmse, summary } from './stats.js';
import type { SyncResult } from './sync.js';
import { DEFAULT_MAX_OFFSET, circularShift, syncSearch } from './sync.js';
import { readTruth, truthVideoFor } from './truth.js';

/**
 * The mouth measure the headline sync numbers use, chosen by `refree eval --calibrate` on 10
 * synthetic clips (engine/synth, 4 s, 256², seeds 100–109) against their truth. Pearson r with truth
 * mouthOpen, mean (min … max): landmarks 0.893 (0.812 … 0.950), dark area 0.943 (0.895 … 0.975),
 * darkness 0.957 (0.897 … 0.983), combined 0.965 (0.923 … 0.991). The combined measure (mean of the
 * three standardised) also separates true from shifted speech with the widest margin but one (0.19).
 */
export const PRIMARY_MOUTH: MouthMeasure = 'combined';

/**
 * Confidence above which a video counts as in sync. On the same 10 clips as they are the combined
 * confidence was 0.835 (0.618 … 1.028), best offset −1 on every clip (the synthetic mouth moves just
 * before its sound), and with the speech rotated by 2 s 0.300 (0.181 … 0.428); an earlier version of
 * the avatars gave 0.738 (0.481 … 0.987) vs 0.270 (0.144 … 0.365). 0.47 separates both sets.
 * Calibrated on synthetic speech and avatars only: run `refree eval --calibrate` on real clips.
 */
export const SYNC_CONFIDENCE_THRESHOLD = 0.47;

export interface SyncReport {
  measure: MouthMeasure;
  /** Frames; positive = the video lags the audio. */
  offset: number;
  offsetSeconds: number | null;
  distance: number | null;
  confidence: number | null;
  r: number | null;
  /** 1 − r for offsets −maxOffset..+maxOffset. */
  distances: (number | null)[];
  maxOffset: number;
  /** confidence > SYNC_CONFIDENCE_THRESHOLD (null when there is no confidence). */
  inSync: boolean | null;
}

export interface Correlation {
  r: number | null;
  /** RMS difference after standardising both series (0 = same shape, √2 ≈ unrelated). */
  rmse: number | null;
}

export interface FrameStats {
  mean: number | null;
  min: number | null;
  max: number | null;
  firstFrame: number | null;
}

export interface TruthReport {
  file: string;
  /** The truth video compared against (null when there is none beside the truth file). */
  video: string | null;
  /** Frames compared (the shorter of the two). */
  frames: number;
  /** Pearson r of each mouth measure against truth mouthOpen. */
  mouth: Record<MouthMeasure, number | null>;
  head: { yaw: Correlation; pitch: Correlation; roll: Correlation };
  brow: Correlation;
  /** Eye closure (minus the lid opening) against truth blink. */
  blink: Correlation;
  /** Our speech envelope against the truth's. */
  envelope: Correlation;
  psnr: FrameStats | null;
  ssim: FrameStats | null;
  warnings: string[];
}

export interface EvalReport {
  file: string;
  video: { width: number; height: number; fps: number; frames: number; durationS: number; audioDurationS: number };
  faces: VideoAnalysis['faces'];
  /** Headline lip sync (the primary mouth measure). */
  sync: SyncReport;
  /** The same search for every mouth measure. */
  syncByMeasure: Record<MouthMeasure, SyncReport>;
  motion: { [K in keyof MotionSummary]: MotionSummary[K] extends number ? number | null : MotionSummary[K] };
  truth: TruthReport | null;
  /** Per-frame series (only with `series: true`): the standardised combined mouth measure, the raw
   *  FaceMesh inner-lip opening (about 0.01 closed, 0.3 wide open; comparable across videos), and the
   *  speech envelope. */
  series?: { mouth: (number | null)[]; mouthLandmark: (number | null)[]; envelope: (number | null)[] };
  warnings: string[];
  seconds: number;
}

export interface EvaluateOptions {
  /** A ClipTruth file (its video is the .mp4 beside it), or the truth itself. */
  truth?: string | { truth: ClipTruth; file: string; video: string | null };
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  maxOffset?: number;
  /** Include the per-frame primary mouth measure and envelope in the report. */
  series?: boolean;
}

const r4 = (x: number): number | null => round(x, 4);

export function syncReport(measure: MouthMeasure, mouth: ArrayLike<number>, envelope: ArrayLike<number>, fps: number, maxOffset = DEFAULT_MAX_OFFSET): SyncReport {
  const s: SyncResult = syncSearch(mouth, envelope, maxOffset);
  return {
    measure,
    offset: s.offset,
    offsetSeconds: r4(s.offset / fps),
    distance: r4(s.distance),
    confidence: r4(s.confidence),
    r: r4(s.r),
    distances: s.distances.map(r4),
    maxOffset: s.maxOffset,
    inSync: Number.isFinite(s.confidence) ? s.confidence > SYNC_CONFIDENCE_THRESHOLD : null,
  };
}

/** The sync search on every mouth measure of an analysed video, with the envelope as is or rotated. */
export function syncAll(a: VideoAnalysis, maxOffset = DEFAULT_MAX_OFFSET, envelopeShift = 0): Record<MouthMeasure, SyncReport> {
  const env = envelopeShift ? circularShift(a.envelope, envelopeShift) : a.envelope;
  return Object.fromEntries(MOUTH_MEASURES.map((m) => [m, syncReport(m, a.signals[m], env, a.fps, maxOffset)])) as Record<MouthMeasure, SyncReport>;
}

const corr = (a: ArrayLike<number>, b: ArrayLike<number>): Correlation => ({ r: r4(pearson(a, b)), rmse: r4(standardizedRmse(a, b)) });

/** Correlations of the analysed signals with a clip's truth (the first `n` frames of both). */
export function truthCorrelations(a: VideoAnalysis, truth: ClipTruth): Omit<TruthReport, 'file' | 'video' | 'psnr' | 'ssim'> {
  const n = Math.min(a.frames, truth.frames);
  const warnings: string[] = [];
  if (Math.abs(a.fps - truth.fps) > 0.01 * truth.fps) warnings.push(`the video runs at ${a.fps} fps and the truth at ${truth.fps} fps: frames are compared by index, so the correlations are not meaningful`);
  if (a.frames !== truth.frames) warnings.push(`the video has ${a.frames} frames and the truth ${truth.frames}: the first ${n} are compared`);
  const cut = (x: ArrayLike<number>): number[] => Array.from({ length: n }, (_, i) => x[i]!);
  const pf = truth.perFrame;
  const neg = (x: ArrayLike<number>): number[] => cut(x).map((v) => -v);
  return {
    frames: n,
    mouth: Object.fromEntries(MOUTH_MEASURES.map((m) => [m, r4(pearson(cut(a.signals[m]), cut(pf.mouthOpen)))])) as Record<MouthMeasure, number | null>,
    head: { yaw: corr(cut(a.signals.yaw), cut(pf.headYaw)), pitch: corr(cut(a.signals.pitch), cut(pf.headPitch)), roll: corr(cut(a.signals.roll), cut(pf.headRoll)) },
    brow: corr(cut(a.signals.brow), cut(pf.brow)),
    blink: corr(neg(a.signals.eyeOpen), cut(pf.blink)),
    envelope: corr(cut(a.envelope), cut(pf.envelope)),
    warnings,
  };
}

/**
 * PSNR and SSIM of `video` against `reference`, frame by frame on luma, at the reference's size (the
 * video is scaled to it by ffmpeg when they differ). Frames are compared by index up to the shorter.
 */
export async function compareVideos(video: string, reference: string, opts: { signal?: AbortSignal; onFrame?: (done: number, total: number) => void } = {}): Promise<{ frames: number; psnr: number[]; ssim: number[]; resized: boolean }> {
  const [vi, ri] = await Promise.all([probeVideo(video), probeVideo(reference)]);
  const width = ri.width;
  const height = ri.height;
  const common = { pixelFormat: 'gray' as const, width, height, scaleFlags: 'bicubic' as const, ...(opts.signal ? { signal: opts.signal } : {}) };
  const a = readFrames(video, common);
  const b = readFrames(reference, common);
  const total = Math.min(vi.frameCount ?? Infinity, ri.frameCount ?? Infinity);
  const ps: number[] = [];
  const ss: number[] = [];
  try {
    while (true) {
      const [x, y] = await Promise.all([a.next(), b.next()]);
      if (x.done || y.done) break;
      ps.push(psnr(x.value.data, y.value.data));
      ss.push(ssim(x.value.data, y.value.data, width, height));
      opts.onFrame?.(ps.length, Number.isFinite(total) ? total : ps.length);
    }
  } finally {
    await Promise.all([a.return(undefined), b.return(undefined)]);
  }
  return { frames: ps.length, psnr: ps, ssim: ss, resized: vi.width !== width || vi.height !== height };
}

const frameStats = (v: number[]): FrameStats => {
  const s = summary(v);
  return { mean: r4(s.mean), min: r4(s.min), max: r4(s.max), firstFrame: r4(v[0] ?? NaN) };
};

export async function evaluateVideo(video: string, opts: EvaluateOptions = {}): Promise<EvalReport> {
  const t0 = performance.now();
  // The truth is read before the long pass, so a bad truth file fails at once.
  const truth = typeof opts.truth === 'string' ? { truth: readTruth(opts.truth), file: opts.truth, video: truthVideoFor(opts.truth) } : (opts.truth ?? null);
  const a = await analyseVideo(video, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const maxOffset = opts.maxOffset ?? DEFAULT_MAX_OFFSET;
  const byMeasure = syncAll(a, maxOffset);
  const warnings: string[] = [];
  if (a.silent) warnings.push(`the sound track of ${video} is silent or nearly so: the sync numbers mean little`);
  if (a.faces.missing > 0) warnings.push(`no face in ${a.faces.missing} of ${a.frames} frames (${a.faces.interpolated} filled in from their neighbours)`);
  if (a.frames < 2 * maxOffset + 10) warnings.push(`only ${a.frames} frames: the offset search was narrowed to ±${byMeasure[PRIMARY_MOUTH].maxOffset} frames; clips of 3 s or more give steadier numbers`);

  let truthReport: TruthReport | null = null;
  if (truth) {
    const c = truthCorrelations(a, truth.truth);
    let psnrStats: FrameStats | null = null;
    let ssimStats: FrameStats | null = null;
    if (truth.video) {
      const t1 = performance.now();
      const cmp = await compareVideos(video, truth.video, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        onFrame: (done, total) => {
          const elapsedS = (performance.now() - t1) / 1000;
          opts.onProgress?.({ stage: 'compare', done, total, fraction: Math.min(1, done / total), elapsedS, etaS: (elapsedS * (total - done)) / done });
        },
      });
      psnrStats = frameStats(cmp.psnr);
      ssimStats = frameStats(cmp.ssim);
      if (cmp.resized) c.warnings.push(`the video was scaled to the truth video's size for PSNR/SSIM`);
    } else c.warnings.push(`no truth video beside ${truth.file}: PSNR/SSIM were not measured`);
    truthReport = { file: truth.file, video: truth.video, ...c, psnr: psnrStats, ssim: ssimStats };
  }
  const m = a.motion;
  return {
    file: video,
    video: { width: a.width, height: a.height, fps: a.fps, frames: a.frames, durationS: r4(a.durationS) ?? 0, audioDurationS: r4(a.audioDurationS) ?? 0 },
    faces: a.faces,
    sync: byMeasure[PRIMARY_MOUTH],
    syncByMeasure: byMeasure,
    motion: { interval: m.interval, pairs: m.pairs, meanAbsDiff: r4(m.meanAbsDiff), meanFlow: r4(m.meanFlow), meanTop5Flow: r4(m.meanTop5Flow), threshold: r4(m.threshold), dynamicFraction: r4(m.dynamicFraction), dynamic: m.dynamic },
    truth: truthReport,
    ...(opts.series ? { series: { mouth: Array.from(a.signals[PRIMARY_MOUTH], r4), mouthLandmark: Array.from(a.signals.mouthLandmark, r4), envelope: Array.from(a.envelope, r4) } } : {}),
    warnings,
    seconds: r4((performance.now() - t0) / 1000) ?? 0,
  };
}

