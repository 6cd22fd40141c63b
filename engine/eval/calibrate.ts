// Calibration of the sync measure on a folder of clips (MP4, each optionally with its ClipTruth
// <name>.json beside it): every clip is scored as it is ("true") and with its speech rotated by at
// least 1 s ("shifted": the circular shift of the per-frame envelope by max(1 s, half the clip), so the
// sound belongs to another moment of the same voice). A measure that works puts the true confidences
// clearly above the shifted ones and finds offset 0 ± 1 on the true clips. The suggested threshold is
// the confidence that best separates the two groups (balanced accuracy; the middle of the gap when
// they do not overlap). With truth files, each mouth measure's correlation with the truth mouth
// opening is reported too: that is how the primary measure was chosen.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EvalProgress, MouthMeasure } from './analyse.js';
import { MOUTH_MEASURES, analyseVideo } from './analyse.js';
import { EvalError } from './errors.js';
import type { SyncReport, TruthReport } from './evaluate.js';
import { PRIMARY_MOUTH, syncAll, truthCorrelations } from './evaluate.js';
import { round, summary } from './stats.js';
import { DEFAULT_MAX_OFFSET } from './sync.js';
import { readTruth } from './truth.js';

export interface CalibrateOptions {
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress & { clip: number; clips: number; file: string }) => void;
  maxOffset?: number;
  /** Least shift of the speech, seconds (default 1). */
  minShiftSeconds?: number;
}

type Brief = Pick<SyncReport, 'offset' | 'distance' | 'confidence'>;

export interface CalibrationClip {
  file: string;
  truth: string | null;
  frames: number;
  fps: number;
  faces: { found: number; missing: number };
  shiftFrames: number;
  true: Record<MouthMeasure, Brief>;
  shifted: Record<MouthMeasure, Brief>;
  /** Correlations with the clip's truth (null without a truth file). */
  truthCorrelations: Omit<TruthReport, 'file' | 'video' | 'psnr' | 'ssim' | 'warnings'> | null;
}

type Stat = { mean: number | null; min: number | null; max: number | null; n: number };

export interface MeasureCalibration {
  trueConfidence: Stat;
  shiftedConfidence: Stat;
  trueOffset: Stat;
  /** True clips whose best offset is within ±1 frame of 0. */
  trueOffsetWithin1: number;
  shiftedOffset: Stat;
  trueDistance: Stat;
  shiftedDistance: Stat;
  /** Confidence threshold separating true from shifted, its balanced accuracy, and min(true) − max(shifted). */
  threshold: number | null;
  accuracy: number | null;
  margin: number | null;
  /** Pearson r with truth mouthOpen over the clips that have truth. */
  truthR: Stat | null;
}

export interface CalibrationReport {
  dir: string;
  clips: CalibrationClip[];
  skipped: { file: string; reason: string }[];
  /** The measure `refree eval` reports as its headline. */
  primary: MouthMeasure;
  measures: Record<MouthMeasure, MeasureCalibration>;
  /** The primary measure's threshold: confidence above it means "in sync". */
  suggestedThreshold: number | null;
  /** The measure with the highest mean truth r (with truth files), else the widest margin. */
  best: MouthMeasure;
  /** Head, brow and blink against truth, mean r over clips (null without truth). */
  truthMotion: { yaw: Stat; pitch: Stat; roll: Stat; brow: Stat; blink: Stat; envelope: Stat } | null;
  seconds: number;
}

const r4 = (x: number): number | null => round(x, 4);
const stat = (v: (number | null)[]): Stat => {
  const s = summary(v.filter((x): x is number => x !== null));
  return { mean: r4(s.mean), min: r4(s.min), max: r4(s.max), n: s.n };
};

/** The threshold on confidence that best tells `pos` (true) from `neg` (shifted). */
export function separate(pos: number[], neg: number[]): { threshold: number | null; accuracy: number | null; margin: number | null } {
  if (!pos.length || !neg.length) return { threshold: null, accuracy: null, margin: null };
  const margin = Math.min(...pos) - Math.max(...neg);
  if (margin > 0) return { threshold: (Math.min(...pos) + Math.max(...neg)) / 2, accuracy: 1, margin };
  const cands = [...pos, ...neg].sort((a, b) => a - b);
  let best = { threshold: cands[0]!, accuracy: 0 };
  for (let i = 0; i + 1 < cands.length; i++) {
    const t = (cands[i]! + cands[i + 1]!) / 2;
    const acc = (pos.filter((x) => x > t).length / pos.length + neg.filter((x) => x <= t).length / neg.length) / 2;
    if (acc > best.accuracy) best = { threshold: t, accuracy: acc };
  }
  return { ...best, margin };
}

function listClips(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new EvalError('no-clips', `the clips folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new EvalError('no-clips', `${dir} is not a folder: give the folder that holds the clips (.mp4)`);
  const files = readdirSync(dir)
    .filter((f) => /\.mp4$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  if (!files.length) throw new EvalError('no-clips', `the clips folder ${dir} holds no .mp4 files`);
  return files;
}

export async function calibrate(dir: string, opts: CalibrateOptions = {}): Promise<CalibrationReport> {
  const t0 = performance.now();
  const files = listClips(dir);
  const maxOffset = opts.maxOffset ?? DEFAULT_MAX_OFFSET;
  const clips: CalibrationClip[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (let c = 0; c < files.length; c++) {
    const file = files[c]!;
    const truthFile = file.replace(/\.mp4$/i, '.json');
    let truth;
    try {
      truth = statSync(truthFile, { throwIfNoEntry: false })?.isFile() ? readTruth(truthFile) : null;
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
      continue;
    }
    let a;
    try {
      a = await analyseVideo(file, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (p) => {
          if (!opts.onProgress) return;
          const fraction = (c + p.fraction) / files.length;
          const elapsedS = (performance.now() - t0) / 1000;
          opts.onProgress({ ...p, fraction, elapsedS, etaS: fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : null, clip: c, clips: files.length, file });
        },
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      skipped.push({ file, reason: (e as Error).message });
      continue;
    }
    const shiftFrames = Math.max(Math.ceil((opts.minShiftSeconds ?? 1) * a.fps), Math.floor(a.frames / 2));
    if (shiftFrames > a.frames - Math.ceil((opts.minShiftSeconds ?? 1) * a.fps)) {
      skipped.push({ file, reason: `${file} is ${a.durationS.toFixed(2)} s long: the speech cannot be shifted by ${opts.minShiftSeconds ?? 1} s within it (at least ${(2 * (opts.minShiftSeconds ?? 1)).toFixed(1)} s needed)` });
      continue;
    }
    const brief = (r: Record<MouthMeasure, SyncReport>): Record<MouthMeasure, Brief> =>
      Object.fromEntries(MOUTH_MEASURES.map((m) => [m, { offset: r[m].offset, distance: r[m].distance, confidence: r[m].confidence }])) as Record<MouthMeasure, Brief>;
    let tc: CalibrationClip['truthCorrelations'] = null;
    if (truth) {
      const { warnings: _w, ...rest } = truthCorrelations(a, truth);
      tc = rest;
    }
    clips.push({
      file,
      truth: truth ? truthFile : null,
      frames: a.frames,
      fps: a.fps,
      faces: { found: a.faces.found, missing: a.faces.missing },
      shiftFrames,
      true: brief(syncAll(a, maxOffset)),
      shifted: brief(syncAll(a, maxOffset, shiftFrames)),
      truthCorrelations: tc,
    });
  }
  if (!clips.length) throw new EvalError('no-clips', `none of the ${files.length} clips in ${dir} could be measured: ${skipped.map((s) => s.reason).join('; ')}`);

  const withTruth = clips.filter((c) => c.truthCorrelations);
  const measures = Object.fromEntries(
    MOUTH_MEASURES.map((m) => {
      const tc = clips.map((c) => c.true[m].confidence ?? NaN);
      const sc = clips.map((c) => c.shifted[m].confidence ?? NaN);
      const sep = separate(tc.filter(Number.isFinite), sc.filter(Number.isFinite));
      const cal: MeasureCalibration = {
        trueConfidence: stat(tc),
        shiftedConfidence: stat(sc),
        trueOffset: stat(clips.map((c) => c.true[m].offset)),
        trueOffsetWithin1: clips.filter((c) => Math.abs(c.true[m].offset) <= 1).length,
        shiftedOffset: stat(clips.map((c) => c.shifted[m].offset)),
        trueDistance: stat(clips.map((c) => c.true[m].distance)),
        shiftedDistance: stat(clips.map((c) => c.shifted[m].distance)),
        threshold: r4(sep.threshold ?? NaN),
        accuracy: r4(sep.accuracy ?? NaN),
        margin: r4(sep.margin ?? NaN),
        truthR: withTruth.length ? stat(withTruth.map((c) => c.truthCorrelations!.mouth[m])) : null,
      };
      return [m, cal];
    }),
  ) as Record<MouthMeasure, MeasureCalibration>;
  const best = [...MOUTH_MEASURES].sort((x, y) => (withTruth.length ? (measures[y].truthR?.mean ?? -2) - (measures[x].truthR?.mean ?? -2) : (measures[y].margin ?? -2) - (measures[x].margin ?? -2)))[0]!;
  const tm = (f: (t: NonNullable<CalibrationClip['truthCorrelations']>) => number | null): Stat => stat(withTruth.map((c) => f(c.truthCorrelations!)));
  return {
    dir,
    clips,
    skipped,
    primary: PRIMARY_MOUTH,
    measures,
    suggestedThreshold: measures[PRIMARY_MOUTH].threshold,
    best,
    truthMotion: withTruth.length
      ? { yaw: tm((t) => t.head.yaw.r), pitch: tm((t) => t.head.pitch.r), roll: tm((t) => t.head.roll.r), brow: tm((t) => t.brow.r), blink: tm((t) => t.blink.r), envelope: tm((t) => t.envelope.r) }
      : null,
    seconds: r4((performance.now() - t0) / 1000) ?? 0,
  };
}
