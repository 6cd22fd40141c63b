// Does the mouth stay closed when nobody speaks? Each held-out clip's speech gets SILENCE_S seconds of
// digital silence before and after it; the model animates the clip's first frame with it, and
// `refree eval --series` reads the mouth opening in every frame. Reported: the mean mouth opening
// (FaceMesh inner-lip ratio: about 0.01 closed, 0.3 wide open) over the silent frames (the first
// 0.3 s after speech ends skipped, so a closing mouth is not counted against it) against the mean over
// the speech. Cached in <outDir>/silence.json.
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StepRunner } from './recipe-steps.js';
import { exists } from './recipe-steps.js';

export const SILENCE_S = 1.5;
/** Frames after the speech ends that may still be closing. */
const SETTLE_S = 0.3;

export interface SilenceRow {
  clip: string;
  /** Mean mouth opening in the silent lead-in and tail (settling frames skipped). */
  silence: number | null;
  /** Mean mouth opening while the speech plays. */
  speech: number | null;
}

async function ffmpeg(args: string[]): Promise<void> {
  const { ffmpegPath } = await import('../../engine/runtime/ffmpeg.js');
  await new Promise<void>((resolve, reject) => {
    const p = spawn(ffmpegPath(), ['-v', 'error', '-y', ...args]);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (exit ${code})`))));
  });
}

const mean = (v: (number | null)[]): number | null => {
  const x = v.filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return x.length ? +(x.reduce((a, b) => a + b, 0) / x.length).toFixed(4) : null;
};

export async function silenceCheck(o: { name: string; model: string[]; outDir: string; clipsDir: string; clips: number; speechSeconds: number; runner: StepRunner }): Promise<SilenceRow[]> {
  const cache = path.join(o.outDir, 'silence.json');
  const have = await readFile(cache, 'utf8').catch(() => null);
  if (have) return JSON.parse(have) as SilenceRow[];
  await mkdir(o.outDir, { recursive: true });
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
    const r = await o.runner.cli(`${o.name}-eval-${id}`, ['eval', out, '--series', '--json'], true);
    let report: { video?: { fps: number }; series?: { mouthLandmark: (number | null)[] } } = {};
    try {
      report = JSON.parse(r) as typeof report;
    } catch {
      // not measurable (no face found): recorded as nulls
    }
    const mouth = report.series?.mouthLandmark ?? [];
    const fps = report.video?.fps ?? 15;
    const startF = Math.round(SILENCE_S * fps);
    const endF = Math.round((SILENCE_S + o.speechSeconds) * fps);
    const settle = Math.round(SETTLE_S * fps);
    // The lead-in's last 2 frames are left out too: the mouth opens 60–100 ms before the sound.
    const silent = [...mouth.slice(settle, startF - 2), ...mouth.slice(endF + settle)];
    rows.push({ clip: id, silence: mean(silent), speech: mean(mouth.slice(startF, endF)) });
  }
  await writeFile(cache, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

/** Means over clips: { silence, speech }. */
export function silenceSummary(rows: readonly SilenceRow[]): { clips: number; measured: number; silence: number | null; speech: number | null } {
  return { clips: rows.length, measured: rows.filter((r) => r.silence !== null && r.speech !== null).length, silence: mean(rows.map((r) => r.silence)), speech: mean(rows.map((r) => r.speech)) };
}
