// `refree eval <video> [--truth clip.json]` and `refree eval --calibrate DIR`: lip sync (SyncNet-style
// offset search of the mouth opening against the speech envelope), motion of the face, and — against a
// synthetic clip's truth — how closely mouth, head and brows follow it, plus PSNR/SSIM. People get a
// progress bar with ETA on stderr and a short summary; `--json` prints progress as JSON lines on
// stderr and exactly one JSON object (the report) on stdout.
import type { CalibrationReport, EvalProgress, EvalReport, MouthMeasure } from '../eval/index.js';
import { MOUTH_MEASURES, SYNC_CONFIDENCE_THRESHOLD, calibrate, evaluateVideo } from '../eval/index.js';
import { formatDuration } from '../model/package/progress.js';
import type { CliIO, Command } from './command.js';
import { UsageError } from './command.js';
import { ProgressLine } from './progress-line.js';
import { table } from './output.js';

const HELP = `Usage: refree eval <video> [--truth <clip.json>] [--max-offset N] [--series] [--json]
       refree eval --calibrate <folder> [--max-offset N] [--json]

Measures a talking-head video: how well the mouth follows the speech, and how much the face moves.

Lip sync: the mouth opening in every frame (from FaceMesh face landmarks and from the darkness of the
mouth) is compared with the loudness of the speech at offsets of ±N frames (default 15), in the
manner of SyncNet: the best offset (positive = the picture lags the sound), the distance at it
(1 − correlation, lower is better) and the confidence (median distance − best distance, higher is
better; unrelated sound scores low; above ${SYNC_CONFIDENCE_THRESHOLD} counts as in sync). Motion: block-matching
flow over the face between frames 1/8 s apart, and the share of those pairs that move more than
VBench's Dynamic Degree threshold.

Options:
  --truth <clip.json>    a synthetic clip's truth file: adds the correlation of mouth, head pose, brows
                         and blinks with it, and PSNR/SSIM against the truth video beside it (<clip>.mp4)
  --calibrate <folder>   score every .mp4 in the folder as it is and with its speech shifted by ≥ 1 s,
                         report both, the correlation of each mouth measure with the truth files found
                         beside the clips, and a suggested confidence threshold
  --max-offset <n>       frames searched each way (default 15)
  --series               include the per-frame mouth opening and speech envelope in the JSON report
  --json                 progress as JSON lines on stderr; one JSON object on stdout

Exit code: 0 measured, 1 the video cannot be measured (missing, not a video, no sound, no face), 2 bad usage.`;

const NAMES: Record<MouthMeasure, string> = { mouthLandmark: 'landmarks', mouthDarkArea: 'dark area', mouthDarkness: 'darkness', combined: 'combined' };

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined ? '–' : x.toFixed(d));

function progressPrinter(io: CliIO, asJson: boolean): { onProgress: (p: EvalProgress & { clip?: number; clips?: number }) => void; clear: () => void } {
  const bar = new ProgressLine(io);
  let lastKey = '';
  let lastJson = -1;
  const onProgress = (p: EvalProgress & { clip?: number; clips?: number; file?: string }): void => {
    if (asJson) {
      // At most one line per percent (and every stage change), not one per frame of a long video.
      const key = `${p.stage}:${p.clip ?? 0}`;
      if (key === lastKey && p.fraction < 1 && p.fraction - lastJson < 0.01) return;
      lastKey = key;
      lastJson = p.fraction;
      io.stderr(`${JSON.stringify({ type: 'progress', ...p })}\n`);
      return;
    }
    const what = p.stage === 'audio' ? 'reading the speech' : p.stage === 'faces' ? `face landmarks, frame ${p.done}/${p.total}` : `comparing with the truth video, frame ${p.done}/${p.total}`;
    const clip = p.clips !== undefined ? `clip ${p.clip! + 1}/${p.clips}, ` : '';
    bar.update(p.fraction, `${clip}${what}, ${formatDuration(p.elapsedS)} elapsed, ETA ${p.etaS === null ? '?' : formatDuration(p.etaS)}`);
  };
  return { onProgress, clear: () => bar.clear() };
}

export function formatReport(r: EvalReport): string {
  const v = r.video;
  const s = r.sync;
  const lines = [
    `${r.file}: ${v.frames} frames at ${+v.fps.toFixed(3)} fps (${v.durationS.toFixed(2)} s), ${v.width}×${v.height}; face in ${r.faces.found}/${v.frames} frames${r.faces.interpolated ? ` (${r.faces.interpolated} filled in)` : ''}`,
    `lip sync: offset ${s.offset > 0 ? '+' : ''}${s.offset} frames (${f(s.offsetSeconds, 2)} s${s.offset > 0 ? ', the picture lags the sound' : s.offset < 0 ? ', the picture leads the sound' : ''}), distance ${f(s.distance)}, confidence ${f(s.confidence)} (${NAMES[s.measure]} mouth measure, searched ±${s.maxOffset} frames)`,
    `  ${s.inSync ? 'in sync' : 'not clearly in sync'}: the confidence is ${s.inSync ? 'above' : 'at or below'} ${SYNC_CONFIDENCE_THRESHOLD}, the level that tells matching from shifted speech on synthetic clips`,
    `  by mouth measure: ${MOUTH_MEASURES.map((m) => `${NAMES[m]} ${r.syncByMeasure[m].offset > 0 ? '+' : ''}${r.syncByMeasure[m].offset} / ${f(r.syncByMeasure[m].confidence)}`).join(', ')} (offset / confidence)`,
    `motion of the face: mean |Δluma| ${f(r.motion.meanAbsDiff, 2)}, mean flow ${f(r.motion.meanFlow, 2)} px, top-5 % flow ${f(r.motion.meanTop5Flow, 2)} px; ${f((r.motion.dynamicFraction ?? 0) * 100, 0)} % of frame pairs move more than ${f(r.motion.threshold, 1)} px → ${r.motion.dynamic ? 'dynamic' : 'static'}`,
  ];
  const t = r.truth;
  if (t) {
    lines.push(
      `against the truth (${t.file}, ${t.frames} frames):`,
      `  mouth opening r: ${MOUTH_MEASURES.map((m) => `${NAMES[m]} ${f(t.mouth[m])}`).join(', ')}`,
      `  head yaw r ${f(t.head.yaw.r)}, pitch r ${f(t.head.pitch.r)}, roll r ${f(t.head.roll.r)}; brows r ${f(t.brow.r)}; blinks r ${f(t.blink.r)}; speech envelope r ${f(t.envelope.r)}`,
    );
    if (t.psnr && t.ssim) lines.push(`  PSNR ${f(t.psnr.mean, 2)} dB (first frame ${f(t.psnr.firstFrame, 2)}, worst ${f(t.psnr.min, 2)}), SSIM ${f(t.ssim.mean, 4)} (first frame ${f(t.ssim.firstFrame, 4)}, worst ${f(t.ssim.min, 4)}) against ${t.video}`);
    for (const w of t.warnings) lines.push(`  note: ${w}`);
  }
  for (const w of r.warnings) lines.push(`note: ${w}`);
  lines.push(`measured in ${r.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

export function formatCalibration(c: CalibrationReport): string {
  const rng = (s: { mean: number | null; min: number | null; max: number | null }, d = 3): string => `${f(s.mean, d)} (${f(s.min, d)} … ${f(s.max, d)})`;
  const lines = [`${c.clips.length} clips measured in ${c.dir}${c.skipped.length ? `, ${c.skipped.length} skipped` : ''}`];
  lines.push(
    table([
      ['mouth measure', 'true confidence', 'shifted confidence', 'true offsets within ±1', 'threshold', 'accuracy', 'r with truth'],
      ...MOUTH_MEASURES.map((m) => {
        const x = c.measures[m];
        return [`${NAMES[m]}${m === c.primary ? ' (primary)' : ''}`, rng(x.trueConfidence), rng(x.shiftedConfidence), `${x.trueOffsetWithin1}/${c.clips.length} (${rng(x.trueOffset, 1)})`, f(x.threshold), f(x.accuracy, 2), x.truthR ? rng(x.truthR) : '–'];
      }),
    ]),
  );
  const p = c.measures[c.primary];
  lines.push(
    `true clips: confidence ${rng(p.trueConfidence)}, distance ${rng(p.trueDistance)}, best offset ${rng(p.trueOffset, 1)} frames`,
    `speech shifted by ≥ 1 s: confidence ${rng(p.shiftedConfidence)}, distance ${rng(p.shiftedDistance)}, best offset ${rng(p.shiftedOffset, 1)} frames`,
    `suggested threshold: confidence above ${f(c.suggestedThreshold)} means in sync (${f((p.accuracy ?? 0) * 100, 0)} % of true and shifted clips told apart; margin ${f(p.margin)})`,
  );
  if (c.truthMotion) {
    const t = c.truthMotion;
    lines.push(`against the truth (mean r): head yaw ${f(t.yaw.mean)}, pitch ${f(t.pitch.mean)}, roll ${f(t.roll.mean)}; brows ${f(t.brow.mean)}; blinks ${f(t.blink.mean)}; speech envelope ${f(t.envelope.mean)}`);
  }
  if (c.best !== c.primary) lines.push(`note: on these clips the ${NAMES[c.best]} measure did best`);
  for (const s of c.skipped) lines.push(`skipped ${s.file}: ${s.reason}`);
  lines.push(`measured in ${c.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'measure lip sync and face motion of a video (against a synthetic clip’s truth, or calibrate on a folder)',
  help: HELP,
  options: { truth: { type: 'string' }, calibrate: { type: 'string' }, 'max-offset': { type: 'string' }, series: { type: 'boolean' } },
  async run({ positionals, values, json: asJson, io, signal }) {
    const mo = values['max-offset'];
    const maxOffset = mo === undefined ? undefined : Number(mo);
    if (maxOffset !== undefined && !(typeof mo === 'string' && Number.isInteger(maxOffset) && maxOffset >= 1 && maxOffset <= 60)) throw new UsageError(`--max-offset must be a whole number of frames from 1 to 60, got "${String(mo)}"`);
    const dir = values.calibrate;
    if (dir !== undefined) {
      if (typeof dir !== 'string' || dir === '') throw new UsageError('--calibrate needs a folder of clips');
      if (positionals.length) throw new UsageError(`--calibrate takes a folder, not a video too (got ${positionals.join(' ')})`);
      if (values.truth !== undefined) throw new UsageError('--truth does not go with --calibrate: the truth files are found beside the clips (<clip>.json)');
      const p = progressPrinter(io, asJson);
      try {
        const c = await calibrate(dir, { signal, onProgress: p.onProgress, ...(maxOffset ? { maxOffset } : {}) });
        p.clear();
        io.stdout(asJson ? JSON.stringify({ ok: true, ...c }) : formatCalibration(c));
        return 0;
      } catch (e) {
        p.clear();
        throw e;
      }
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one video, got ${positionals.length}` : 'which video? usage: refree eval <video> [--truth clip.json], or refree eval --calibrate <folder>');
    const truth = values.truth;
    if (truth !== undefined && (typeof truth !== 'string' || truth === '')) throw new UsageError('--truth needs a truth file (<clip>.json)');
    const p = progressPrinter(io, asJson);
    try {
      const r = await evaluateVideo(positionals[0]!, { signal, onProgress: p.onProgress, series: values.series === true, ...(truth ? { truth } : {}), ...(maxOffset ? { maxOffset } : {}) });
      p.clear();
      io.stdout(asJson ? JSON.stringify({ ok: true, ...r }) : formatReport(r));
      return 0;
    } catch (e) {
      p.clear();
      throw e;
    }
  },
};
