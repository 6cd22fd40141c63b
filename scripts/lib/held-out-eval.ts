// The held-out measurement shared by the refree-mini recipe and the ablations: each held-out clip's
// first frame is the portrait and its own (held-out) speech the audio; `refree generate` makes the video
// and `refree eval --truth` measures it against the clip's rendered truth. Results are cached in
// <outDir>/eval.json, so a finished measurement is never repeated — unless what it measured changed
// (keepIfMeasuredWith): then the folder's videos are made again.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MiniSpec } from '../../engine/train/vae/mini-package.js';
import { runFfmpeg, stderrSummary } from '../../engine/media/ffmpeg-run.js';
import { writeReconstruction } from '../../engine/train/vae/recon-video.js';
import type { StepRunner } from './recipe-steps.js';
import { exists } from './recipe-steps.js';

export interface EvalRow {
  clip: string;
  video: string;
  result: Record<string, unknown>;
}

export interface HeldOutEval {
  name: string;
  /** `refree generate` model options (e.g. ['--model', dir]); ignored with `recon`. */
  model: string[];
  outDir: string;
  clipsDir: string;
  clips: number;
  runner: StepRunner;
  /** Measure the clips' VAE reconstructions instead of generated videos (the VAE's ceiling). */
  recon?: { cfg: MiniSpec['architecture']['vae']; vaeFile: string };
  /** Measure the clips' rendered truth passed through this ffmpeg video filter (a known loss of detail). */
  degrade?: { filter: string };
  /** Extra `refree generate` options (e.g. ['--steps', '4']). */
  generate?: string[];
}

/**
 * Empties `outDir` unless its videos were made with the same `generate` options and model: the model
 * folder's manifest (its files' hashes) and sampler settings are part of the comparison, kept in
 * <outDir>/measured.json.
 */
export async function keepIfMeasuredWith(outDir: string, generate: readonly string[], extra: unknown = null): Promise<void> {
  const i = generate.indexOf('--model');
  const dir = i >= 0 ? generate[i + 1] : undefined;
  const read = async (f: string): Promise<unknown> => (dir ? JSON.parse((await readFile(path.join(dir, f), 'utf8').catch(() => 'null')) as string) : null);
  const key = `${JSON.stringify({ generate, extra, manifest: await read('refree.json'), generation: await read('generation.json') }, null, 2)}\n`;
  const keyFile = path.join(outDir, 'measured.json');
  if ((await readFile(keyFile, 'utf8').catch(() => null)) === key) return;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await writeFile(keyFile, key);
}

export async function evaluateHeldOut(o: HeldOutEval): Promise<EvalRow[]> {
  const summaryFile = path.join(o.outDir, 'eval.json');
  const clips = (await readdir(o.clipsDir)).filter((f) => f.endsWith('.json')).sort().slice(0, o.clips);
  await keepIfMeasuredWith(o.outDir, [...o.model, ...(o.generate ?? [])], o.recon ? { recon: o.recon } : o.degrade ? { degrade: o.degrade } : null);
  // An earlier measurement of exactly these clips is reused; over other clips (a different count) the
  // clips are measured again (videos already generated are kept).
  const have = await readFile(summaryFile, 'utf8').catch(() => null);
  const before = have ? (JSON.parse(have) as EvalRow[]) : null;
  if (before && before.length === clips.length && before.every((r, i) => `${r.clip}.json` === clips[i])) return before;
  const rows: EvalRow[] = [];
  for (const c of clips) {
    const id = c.slice(0, -5);
    const video = path.join(o.clipsDir, `${id}.mp4`);
    const portrait = path.join(o.outDir, `${id}.png`);
    const first = await runFfmpeg(['-v', 'error', '-y', '-i', video, '-frames:v', '1', portrait]);
    if (first.code !== 0) throw new Error(`ffmpeg could not take the first frame of ${video}`);
    const out = path.join(o.outDir, `${id}.mp4`);
    if (o.recon && !(await exists(out))) await writeReconstruction(o.recon.cfg, o.recon.vaeFile, video, out, 128);
    else if (o.degrade && !(await exists(out))) await filterVideo(video, o.degrade.filter, out);
    else if (!(await exists(out))) await o.runner.cli(`${o.name}-generate-${id}`, ['generate', ...o.model, '--portrait', portrait, '--audio', video, '--out', out, '--no-label', '--seed', '0', ...(o.generate ?? [])]);
    // A video the measures cannot read (no face found: an undertrained model) is recorded, not fatal.
    const r = await o.runner.cli(`${o.name}-eval-${id}`, ['eval', out, '--truth', path.join(o.clipsDir, c), '--json'], true);
    let result: Record<string, unknown>;
    try {
      result = JSON.parse(r) as Record<string, unknown>;
    } catch {
      result = { ok: false, error: `no JSON result from refree eval: ${r.slice(-300)}` };
    }
    rows.push({ clip: id, video: out, result });
  }
  await writeFile(summaryFile, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

/** `video` through an ffmpeg video filter, re-encoded near-losslessly (CRF 10), its sound copied. */
export async function filterVideo(video: string, filter: string, out: string): Promise<void> {
  const tmp = `${out}.part.mp4`;
  const r = await runFfmpeg(['-v', 'error', '-y', '-i', video, '-vf', filter, '-c:v', 'libx264', '-crf', '10', '-pix_fmt', 'yuv420p', '-c:a', 'copy', tmp]);
  if (r.code !== 0) {
    await rm(tmp, { force: true });
    throw new Error(`ffmpeg could not apply "${filter}" to ${video}: ${stderrSummary(r.stderr)}`);
  }
  await rename(tmp, out);
}

type Num = number | null;
export interface GroupStats {
  clips: number;
  measured: number;
  mouthR: Num;
  offset: Num;
  confidence: Num;
  psnr: Num;
  ssim: Num;
  firstFramePsnr: Num;
  browR: Num;
  headRollR: Num;
  headPitchR: Num;
  motion: Num;
}

export type EvalResult = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where each measure sits in a `refree eval --json` result (the table's columns but `measured`). */
export const MEASURES = {
  mouthR: (r: EvalResult): unknown => r.truth?.mouth?.combined,
  offset: (r: EvalResult): unknown => r.sync?.offset,
  confidence: (r: EvalResult): unknown => r.sync?.confidence,
  psnr: (r: EvalResult): unknown => r.truth?.psnr?.mean,
  ssim: (r: EvalResult): unknown => r.truth?.ssim?.mean,
  firstFramePsnr: (r: EvalResult): unknown => r.truth?.psnr?.firstFrame,
  browR: (r: EvalResult): unknown => r.truth?.brow?.r,
  headRollR: (r: EvalResult): unknown => r.truth?.head?.roll?.r,
  headPitchR: (r: EvalResult): unknown => r.truth?.head?.pitch?.r,
  motion: (r: EvalResult): unknown => r.motion?.meanTop5Flow,
} satisfies Record<Exclude<keyof GroupStats, 'clips' | 'measured'>, (r: EvalResult) => unknown>;

/** Means over the clips `refree eval` could measure (a video without a detectable face is not). */
export function groupStats(rows: readonly EvalRow[]): GroupStats {
  const ok = rows.map((r) => r.result as EvalResult).filter((r) => r.ok === true);
  const mean = (f: (r: EvalResult) => unknown): Num => {
    const v = ok.map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length ? +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : null;
  };
  const means = Object.fromEntries(Object.entries(MEASURES).map(([k, f]) => [k, mean(f)])) as Record<keyof typeof MEASURES, Num>;
  return { clips: rows.length, measured: ok.length, ...means };
}

const COLUMNS: (keyof GroupStats)[] = ['measured', 'mouthR', 'offset', 'confidence', 'psnr', 'ssim', 'firstFramePsnr', 'browR', 'headRollR', 'headPitchR', 'motion'];

/** A Markdown table, one row per group. */
export function statsTable(groups: Record<string, GroupStats>): string {
  const head = `| | ${COLUMNS.join(' | ')} |\n|---|${COLUMNS.map(() => '---').join('|')}|\n`;
  return head + Object.entries(groups).map(([k, g]) => `| ${k} | ${COLUMNS.map((c) => (c === 'measured' ? `${g.measured}/${g.clips}` : String(g[c] ?? '–'))).join(' | ')} |`).join('\n');
}

/** Skin luma (BT.601, 0–255) below which a synthetic face counts as darker-skinned. */
export const DARKER_SKIN_LUMA = 110;

/**
 * How many clips of each skin tone `refree eval` could measure: the face tracker loses a face whose
 * eyes and lips have lost their contrast, which happens first on darker skin, so the table's means are
 * over lighter faces more than the clips are. Tones come from each clip's truth (identity.skin, "rgb(r,g,b)").
 */
export async function measuredBySkinTone(rows: readonly EvalRow[], clipsDir: string): Promise<Record<'darker' | 'lighter', { clips: number; measured: number }>> {
  const out = { darker: { clips: 0, measured: 0 }, lighter: { clips: 0, measured: 0 } };
  for (const r of rows) {
    const truth = JSON.parse(await readFile(path.join(clipsDir, `${r.clip}.json`), 'utf8')) as { identity?: { skin?: string } };
    const rgb = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(truth.identity?.skin ?? '');
    if (!rgb) throw new Error(`${r.clip}.json in ${clipsDir} names no skin colour (identity.skin): make the clips again with refree synth`);
    const luma = 0.299 * Number(rgb[1]) + 0.587 * Number(rgb[2]) + 0.114 * Number(rgb[3]);
    const g = luma < DARKER_SKIN_LUMA ? out.darker : out.lighter;
    g.clips++;
    if ((r.result as EvalResult).ok === true) g.measured++;
  }
  return out;
}
