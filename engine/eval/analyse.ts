// One pass over a video: the speech envelope from its sound track, then every frame through FaceMesh
// for the face signals (engine/eval/face-signals.ts) and, on the way, the motion of the face region
// between frames 1/8 s apart (engine/eval/quality.ts). Frames are streamed from ffmpeg; only the few
// luma planes the motion pairs need are kept.
//
// Frames without a face are NaN in every signal; gaps up to `maxGap` frames are filled by linear
// interpolation, longer ones stay NaN and drop out of correlations. The counts are reported.
import { MediaError } from '../media/errors.js';
import { probeVideo, readFrames } from '../media/video-reader.js';
import { loadAudio } from '../media/audio-input.js';
import { frameEnvelope } from './envelope.js';
import { EvalError } from './errors.js';
import { faceMesher } from './face-mesh.js';
import type { SignalKey } from './face-signals.js';
import { SIGNAL_KEYS, faceSignals } from './face-signals.js';
import type { Box } from './quality.js';
import { downscaleLuma, motionInterval, motionThreshold, pairMotion, rgbToLuma } from './quality.js';
import { fillGaps, mean, standardize } from './stats.js';

/** The mouth measures compared by calibration; `combined` is the mean of the three standardised ones. */
export const MOUTH_MEASURES = ['mouthLandmark', 'mouthDarkArea', 'mouthDarkness', 'combined'] as const;
export type MouthMeasure = (typeof MOUTH_MEASURES)[number];

export interface EvalProgress {
  stage: 'audio' | 'faces' | 'compare';
  done: number;
  total: number;
  fraction: number;
  elapsedS: number;
  etaS: number | null;
}

export interface AnalyseOptions {
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  /** Longest run of face-less frames filled by interpolation (default 5). */
  maxGap?: number;
}

export interface MotionSummary {
  /** Frames between the compared pairs (about 1/8 s, as VBench). */
  interval: number;
  pairs: number;
  /** Mean |ΔY| over the face region, luma levels. */
  meanAbsDiff: number;
  /** Mean block displacement over the face, pixels. */
  meanFlow: number;
  /** Mean over pairs of the top-5 % displacement, pixels. */
  meanTop5Flow: number;
  /** The "moving" threshold for this frame size, pixels. */
  threshold: number;
  /** Share of pairs whose top-5 % displacement exceeds the threshold. */
  dynamicFraction: number;
  /** VBench's per-video verdict (at least 4 in 16 compared frames moving): dynamicFraction ≥ 1/4. */
  dynamic: boolean;
}

export interface VideoAnalysis {
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  durationS: number;
  audioDurationS: number;
  silent: boolean;
  faces: { found: number; missing: number; interpolated: number; unfilled: number };
  /** Per-frame signals after gap filling (NaN where the face stayed missing). */
  signals: Record<SignalKey | 'combined', Float64Array>;
  envelope: Float64Array;
  motion: MotionSummary;
  /** Face box of each frame (null without a face). */
  boxes: (Box | null)[];
}

function progressClock(onProgress: AnalyseOptions['onProgress']) {
  const t0 = performance.now();
  return (stage: EvalProgress['stage'], done: number, total: number): void => {
    if (!onProgress) return;
    const elapsedS = (performance.now() - t0) / 1000;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    onProgress({ stage, done, total, fraction, elapsedS, etaS: fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : null });
  };
}

export async function analyseVideo(file: string, opts: AnalyseOptions = {}): Promise<VideoAnalysis> {
  const info = await probeVideo(file);
  const fps = info.fps > 0 ? info.fps : 25;
  const expected = info.frameCount ?? Math.max(1, Math.round((info.durationS ?? 0) * fps));
  const tick = progressClock(opts.onProgress);

  // The sound first: without it there is nothing to sync against, and it is quick to find out.
  tick('audio', 0, 1);
  let audio;
  try {
    audio = await loadAudio(file, { maxDuration: 3600, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (e instanceof MediaError && (e.code === 'no-audio-track' || e.code === 'not-audio' || e.code === 'empty-audio')) {
      throw new EvalError('no-audio', `${file} has no sound track: lip sync is measured against the speech, so give the video with its audio`);
    }
    throw e;
  }

  const mesher = await faceMesher();
  const raw: Record<SignalKey, number[]> = Object.fromEntries(SIGNAL_KEYS.map((k) => [k, []])) as unknown as Record<SignalKey, number[]>;
  const boxes: (Box | null)[] = [];
  // Motion: frames are compared `interval` apart at a working scale where the short side is ~256 px.
  const interval = motionInterval(fps);
  const scale = Math.max(1, Math.floor(Math.min(info.width, info.height) / 256));
  const ring: { luma: Uint8Array; box: Box | null }[] = [];
  let lastBox: Box | null = null;
  const pairs: { meanAbsDiff: number; meanFlow: number; top5Flow: number }[] = [];
  let n = 0;
  tick('faces', 0, expected);
  for await (const f of readFrames(file, { pixelFormat: 'rgb24', ...(opts.signal ? { signal: opts.signal } : {}) })) {
    const lm = await mesher.landmarks(f.data, f.width, f.height);
    let box: Box | null = null;
    if (lm) {
      const s = faceSignals(lm.points, f.data, f.width, f.height);
      for (const k of SIGNAL_KEYS) raw[k].push(s[k]);
      box = s.box;
      lastBox = box;
    } else for (const k of SIGNAL_KEYS) raw[k].push(NaN);
    boxes.push(box);
    const small = downscaleLuma(rgbToLuma(f.data, f.width, f.height), f.width, f.height, scale);
    ring.push({ luma: small.data, box: box ?? lastBox });
    if (ring.length > interval) {
      const prev = ring.shift()!;
      const region = prev.box ?? lastBox;
      if (region) {
        // The face box grown by 10 % on each side, at the working scale.
        const g = 0.1;
        const r = { x: (region.x - g * region.width) / scale, y: (region.y - g * region.height) / scale, width: (region.width * (1 + 2 * g)) / scale, height: (region.height * (1 + 2 * g)) / scale };
        const m = pairMotion(prev.luma, small.data, small.width, small.height, r);
        pairs.push({ meanAbsDiff: m.meanAbsDiff, meanFlow: m.meanFlow * scale, top5Flow: m.top5Flow * scale });
      }
    }
    n++;
    tick('faces', n, Math.max(n, expected));
  }
  const found = boxes.filter(Boolean).length;
  if (found === 0) throw new EvalError('no-face', `no face found in any of the ${n} frames of ${file}: the measures need a visible, roughly frontal face`);
  // A correlation over a handful of frames reads anything from −1 to 1 (3 faces in 60 frames once read a
  // lip-sync confidence of 0.995), so the measures need the face in most of the video.
  if (found * 2 < n) throw new EvalError('few-faces', `a face was found in only ${found} of the ${n} frames of ${file}: lip sync and motion need a visible, roughly frontal face in at least half of them`);

  const maxGap = opts.maxGap ?? 5;
  const signals = {} as Record<SignalKey | 'combined', Float64Array>;
  let interpolated = 0;
  for (const k of SIGNAL_KEYS) {
    const g = fillGaps(raw[k], maxGap);
    signals[k] = g.values;
    interpolated = g.filled; // the same for every signal: they go missing together
  }
  const z = (['mouthLandmark', 'mouthDarkArea', 'mouthDarkness'] as const).map((k) => standardize(signals[k]));
  signals.combined = Float64Array.from({ length: n }, (_, i) => (z[0]![i]! + z[1]![i]! + z[2]![i]!) / 3);

  const envelope = frameEnvelope(audio.samples, audio.sampleRate, fps, n);

  const threshold = motionThreshold(info.width, info.height);
  const moving = pairs.filter((p) => p.top5Flow > threshold).length;
  const motion: MotionSummary = {
    interval,
    pairs: pairs.length,
    meanAbsDiff: mean(pairs.map((p) => p.meanAbsDiff)),
    meanFlow: mean(pairs.map((p) => p.meanFlow)),
    meanTop5Flow: mean(pairs.map((p) => p.top5Flow)),
    threshold,
    dynamicFraction: pairs.length ? moving / pairs.length : NaN,
    dynamic: pairs.length > 0 && moving * 4 >= pairs.length,
  };
  return {
    file,
    width: info.width,
    height: info.height,
    fps,
    frames: n,
    durationS: n / fps,
    audioDurationS: audio.duration,
    silent: audio.silent,
    faces: { found, missing: n - found, interpolated, unfilled: n - found - interpolated },
    signals,
    envelope,
    motion,
    boxes,
  };
}
