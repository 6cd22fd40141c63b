// `npm run bench -- generate [--json] [--seconds 10,60] [--repeat 3]`: the generation pipeline at the demo
// settings (built-in model, its default steps/size/fps) on 10 s and 60 s of speech (the demo speech looped).
// Each case runs in its own child process so that its peak RSS (process.resourceUsage().maxRSS) is its
// own; a short warm-up child first makes the demo package and the engine cache, so both cases start
// from the same state. The cases run --repeat times, interleaved (10, 60, 10, 60, …) so that a change in
// the machine's load falls on both, and each number is the median of its repeats: a single peak RSS
// varies by tens of MB with garbage-collection timing, enough to flip a 1.1 ratio on its own.
// Reported: wall time, peak RSS, frames per second, real-time factor, and the 60 s / 10 s ratios of
// time (target ≤ 6.5: linear in length, less the fixed start-up) and of peak RSS (target ≤ 1.1: memory
// flat in the speech length; DESIGN "Numbers to hold").
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../engine/eval/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');
const SPEECH = path.join(ROOT, 'assets', 'demo', 'speech.wav');
const AVATAR = path.join(ROOT, 'assets', 'demo', 'avatar.png');

interface CaseResult {
  seconds: number;
  frames: number;
  wallS: number;
  maxRssMB: number;
  /** the first repeat's time per pipeline stage (a breakdown, not a median). */
  timings: Record<string, number>;
  /** every repeat's wall time and peak RSS; wallS and maxRssMB are their medians. */
  runs: { wallS: number; maxRssMB: number }[];
}

type ChildResult = Omit<CaseResult, 'seconds' | 'runs'>;

/** Child mode: one generation, then one JSON line with its numbers. */
async function child(audio: string, out: string): Promise<void> {
  const { generateVideo } = await import('../engine/pipeline/generate.js');
  const t0 = performance.now();
  const r = await generateVideo({ portrait: AVATAR, audio, out, seed: 0 });
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ frames: r.frames, wallS, maxRssMB: process.resourceUsage().maxRSS / 1024, timings: r.timings, speech: r.speechDuration })}\n`);
}

function runCase(audio: string, out: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', audio, out], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`benchmark case failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

export async function run(args: string[]): Promise<void> {
  const asJson = args.includes('--json');
  const i = args.indexOf('--seconds');
  const lengths = (i >= 0 ? args[i + 1]! : '10,60').split(',').map(Number);
  const k = args.indexOf('--repeat');
  const repeats = k >= 0 ? Number(args[k + 1]) : 3;
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`--repeat must be a whole number of at least 1, got ${args[k + 1]}`);
  const { ffmpegPath } = await import('../engine/runtime/ffmpeg.js');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-bench-gen-'));
  try {
    const clip = (s: number): string => {
      const f = path.join(tmp, `speech-${s}s.wav`);
      execFileSync(ffmpegPath(), ['-v', 'error', '-stream_loop', '-1', '-i', SPEECH, '-t', String(s), '-ac', '1', '-ar', '16000', '-y', f]);
      return f;
    };
    runCase(clip(2), path.join(tmp, 'warmup.mp4'));
    const clips = lengths.map(clip);
    const results: ChildResult[][] = lengths.map(() => []);
    for (let rep = 1; rep <= repeats; rep++) {
      for (const [j, s] of lengths.entries()) {
        results[j]!.push(runCase(clips[j]!, path.join(tmp, `out-${s}s.mp4`)));
        if (!asJson) process.stderr.write(`  ${s} s of speech done (${rep}/${repeats})\n`);
      }
    }
    const cases: CaseResult[] = lengths.map((s, j) => {
      const rs = results[j]!;
      const runs = rs.map((r) => ({ wallS: r.wallS, maxRssMB: r.maxRssMB }));
      return { ...rs[0]!, seconds: s, wallS: median(runs.map((r) => r.wallS)), maxRssMB: median(runs.map((r) => r.maxRssMB)), runs };
    });
    const a = cases[0]!;
    const b = cases[cases.length - 1]!;
    const timeRatio = b.wallS / a.wallS;
    const rssRatio = b.maxRssMB / a.maxRssMB;
    const summary = {
      bench: 'generate',
      model: 'refree-mini (demo settings)',
      cpus: os.cpus().length,
      repeats,
      cases: cases.map((c) => ({ speechS: c.seconds, frames: c.frames, wallS: +c.wallS.toFixed(2), maxRssMB: +c.maxRssMB.toFixed(1), framesPerS: +(c.frames / c.wallS).toFixed(1), realTimeFactor: +(c.wallS / c.seconds).toFixed(3), timings: c.timings, runs: c.runs.map((r) => ({ wallS: +r.wallS.toFixed(2), maxRssMB: +r.maxRssMB.toFixed(1) })) })),
      timeRatio: +timeRatio.toFixed(3),
      rssRatio: +rssRatio.toFixed(3),
      targets: { timeRatio: 6.5, rssRatio: 1.1 },
      pass: { timeRatio: timeRatio <= 6.5, rssRatio: rssRatio <= 1.1 },
    };
    if (asJson) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    const spread = (xs: number[], digits: number): string => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '');
    const rows = summary.cases.map(
      (c) =>
        `  ${String(c.speechS).padStart(4)} s  ${String(c.frames).padStart(5)} frames  ${c.wallS.toFixed(2).padStart(7)} s${spread(c.runs.map((r) => r.wallS), 2)}  ${c.framesPerS.toFixed(1).padStart(6)} frames/s  ${c.realTimeFactor.toFixed(2)}× real time  peak RSS ${c.maxRssMB.toFixed(0)} MB${spread(c.runs.map((r) => r.maxRssMB), 0)}`,
    );
    process.stdout.write(
      [
        `generate (${summary.model}, ${summary.cpus} CPUs, median of ${repeats} run${repeats === 1 ? '' : 's'} each, range in parentheses)`,
        ...rows,
        `  time ratio ${b.seconds}/${a.seconds} s: ${summary.timeRatio} (target ≤ 6.5) ${summary.pass.timeRatio ? 'ok' : 'OVER'}`,
        `  peak-RSS ratio: ${summary.rssRatio} (target ≤ 1.1) ${summary.pass.rssRatio ? 'ok' : 'OVER'}`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  await child(process.argv[3]!, process.argv[4]!);
}
