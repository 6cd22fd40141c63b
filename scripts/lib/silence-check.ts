// Does the mouth stay closed when nobody speaks? Each held-out clip's speech gets SILENCE_S seconds of
// digital silence before and after it; the model animates the clip's first frame with it, and
// `refree eval --series` reads the mouth opening in every frame. Reported: the mean mouth opening
// (FaceMesh inner-lip ratio, about 0.3 wide open) over the silent frames (the first 0.3 s after speech
// ends skipped, so a closing mouth is not counted against it) against the mean over the speech, and
// what a closed mouth reads on the same scale: the same measure over the frames whose true mouth is
// shut in the clip's rendered truth and, when given, in its VAE reconstruction (drawn lips never read
// 0: the measure sees the lip line). Cached in <outDir>/silence.json.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StepRunner } from './recipe-steps.js';
import { exists } from './recipe-steps.js';
import { keepIfMeasuredWith } from './held-out-eval.js';
import { runFfmpeg, stderrSummary } from '../../engine/media/ffmpeg-run.js';

export const SILENCE_S = 1.5;
/** Frames after the speech ends that may still be closing. */
const SETTLE_S = 0.3;

export interface SilenceRow {
  clip: string;
  /** Mean mouth opening in the silent lead-in and tail (settling frames skipped). */
  silence: number | null;
  /** Mean mouth opening while the speech plays. */
  speech: number | null;
  /** Mean reading over the truly shut frames of the rendered truth, and of its VAE reconstruction. */
  closedTruth: number | null;
  closedRecon: number | null;
}

/** A true opening below this counts as shut. */
const SHUT = 0.02;

async function ffmpeg(args: string[]): Promise<void> {
  const r = await runFfmpeg(['-v', 'error', '-y', ...args]);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed (exit ${r.code}): ${stderrSummary(r.stderr)}`);
}

const mean = (v: (number | null)[]): number | null => {
  const x = v.filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return x.length ? +(x.reduce((a, b) => a + b, 0) / x.length).toFixed(4) : null;
};

/** `refree eval --series` of a video: the mouth reading per frame and the frame rate ([] when no face). */
async function mouthSeries(runner: StepRunner, name: string, video: string): Promise<{ mouth: (number | null)[]; fps: number }> {
  const r = await runner.cli(name, ['eval', video, '--series', '--json'], true);
  try {
    const report = JSON.parse(r) as { video?: { fps: number }; series?: { mouthLandmark: (number | null)[] } };
    return { mouth: report.series?.mouthLandmark ?? [], fps: report.video?.fps ?? 15 };
  } catch {
    return { mouth: [], fps: 15 }; // not measurable (no face found): recorded as nulls
  }
}

/** The mean reading of `video` over the frames whose true opening (the clip's JSON) is shut. */
async function closedReading(runner: StepRunner, name: string, video: string, truthFile: string): Promise<number | null> {
  if (!(await exists(video))) return null;
  const truth = JSON.parse(await readFile(truthFile, 'utf8')) as { perFrame: { mouthOpen: number[] } };
  const { mouth } = await mouthSeries(runner, name, video);
  return mean(mouth.filter((_, i) => (truth.perFrame.mouthOpen[i] ?? 1) < SHUT));
}

export async function silenceCheck(o: { name: string; model: string[]; outDir: string; clipsDir: string; clips: number; speechSeconds: number; runner: StepRunner; reconDir?: string }): Promise<SilenceRow[]> {
  await keepIfMeasuredWith(o.outDir, o.model, { speechSeconds: o.speechSeconds, clips: o.clips, reconDir: o.reconDir ?? null });
  const cache = path.join(o.outDir, 'silence.json');
  const have = await readFile(cache, 'utf8').catch(() => null);
  if (have) return JSON.parse(have) as SilenceRow[];
  const clips = (await readdir(o.clipsDir)).filter((f) => f.endsWith('.json')).sort().slice(0, o.clips);
  const rows: SilenceRow[] = [];
  for (const c of clips) {
    const id = c.slice(0, -5);
    const video = path.join(o.clipsDir, `${id}.mp4`);
    const portrait = path.join(o.outDir, `${id}.png`);
    const audio = path.join(o.outDir, `${id}.wav`);
    const out = path.join(o.outDir, `${id}.mp4`);
    await ffmpeg(['-i', video, '-frames:v', '1', portrait]);
    const ms = Math.round(SILENCE_S * 1000);
    // Filters that the oldest bundled ffmpeg (2018) has: trim, mono, delay, pad; the output length cuts the pad.
    await ffmpeg(['-i', video, '-vn', '-af', `atrim=0:${o.speechSeconds},aformat=sample_rates=16000:channel_layouts=mono,adelay=${ms},apad`, '-t', String(o.speechSeconds + 2 * SILENCE_S), '-ar', '16000', '-ac', '1', audio]);
    if (!(await exists(out))) await o.runner.cli(`${o.name}-generate-${id}`, ['generate', ...o.model, '--portrait', portrait, '--audio', audio, '--out', out, '--no-label', '--seed', '0']);
    const { mouth, fps } = await mouthSeries(o.runner, `${o.name}-eval-${id}`, out);
    const startF = Math.round(SILENCE_S * fps);
    const endF = Math.round((SILENCE_S + o.speechSeconds) * fps);
    const settle = Math.round(SETTLE_S * fps);
    // The lead-in's last 2 frames are left out too: the mouth opens 60–100 ms before the sound.
    const silent = [...mouth.slice(settle, startF - 2), ...mouth.slice(endF + settle)];
    const truthFile = path.join(o.clipsDir, c);
    const closedTruth = await closedReading(o.runner, `${o.name}-closed-truth-${id}`, video, truthFile);
    const closedRecon = o.reconDir ? await closedReading(o.runner, `${o.name}-closed-recon-${id}`, path.join(o.reconDir, `${id}.mp4`), truthFile) : null;
    rows.push({ clip: id, silence: mean(silent), speech: mean(mouth.slice(startF, endF)), closedTruth, closedRecon });
  }
  await writeFile(cache, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

/** Means over clips: { silence, speech }. */
export function silenceSummary(rows: readonly SilenceRow[]): { clips: number; measured: number; silence: number | null; speech: number | null; closedTruth: number | null; closedRecon: number | null } {
  return {
    clips: rows.length,
    measured: rows.filter((r) => r.silence !== null && r.speech !== null).length,
    silence: mean(rows.map((r) => r.silence)),
    speech: mean(rows.map((r) => r.speech)),
    // Rows cached before the references existed have none.
    closedTruth: mean(rows.map((r) => r.closedTruth ?? null)),
    closedRecon: mean(rows.map((r) => r.closedRecon ?? null)),
  };
}
