// `npm run bench -- generate [--json] [--seconds 10,60]`: the generation pipeline at the demo settings
// (built-in model, its default steps/size/fps) on 10 s and 60 s of speech (the demo speech looped).
// Each case runs in its own child process so that its peak RSS (process.resourceUsage().maxRSS) is its
// own; a short warm-up child first makes the demo package and the engine cache, so both cases start
// from the same state. Reported: wall time, peak RSS, frames per second, real-time factor, and the
// 60 s / 10 s ratios of time (target ≤ 6.5: linear in length, less the fixed start-up) and of peak RSS
// (target ≤ 1.1: memory flat in the speech length; DESIGN "Numbers to hold").
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');
const SPEECH = path.join(ROOT, 'assets', 'demo', 'speech.wav');
const AVATAR = path.join(ROOT, 'assets', 'demo', 'avatar.png');

interface CaseResult {
  seconds: number;
  frames: number;
  wallS: number;
  maxRssMB: number;
  timings: Record<string, number>;
}

/** Child mode: one generation, then one JSON line with its numbers. */
async function child(audio: string, out: string): Promise<void> {
  const { generateVideo } = await import('../engine/pipeline/generate.js');
  const t0 = performance.now();
  const r = await generateVideo({ portrait: AVATAR, audio, out, seed: 0 });
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ frames: r.frames, wallS, maxRssMB: process.resourceUsage().maxRSS / 1024, timings: r.timings, speech: r.speechDuration })}\n`);
}

function runCase(audio: string, out: string): Omit<CaseResult, 'seconds'> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', audio, out], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`benchmark case failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<CaseResult, 'seconds'>;
}

export async function run(args: string[]): Promise<void> {
  const asJson = args.includes('--json');
  const i = args.indexOf('--seconds');
  const lengths = (i >= 0 ? args[i + 1]! : '10,60').split(',').map(Number);
  const { ffmpegPath } = await import('../engine/runtime/ffmpeg.js');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-bench-gen-'));
  try {
    const clip = (s: number): string => {
      const f = path.join(tmp, `speech-${s}s.wav`);
      execFileSync(ffmpegPath(), ['-v', 'error', '-stream_loop', '-1', '-i', SPEECH, '-t', String(s), '-ac', '1', '-ar', '16000', '-y', f]);
      return f;
    };
    runCase(clip(2), path.join(tmp, 'warmup.mp4'));
    const cases: CaseResult[] = [];
    for (const s of lengths) {
      cases.push({ seconds: s, ...runCase(clip(s), path.join(tmp, `out-${s}s.mp4`)) });
      if (!asJson) process.stderr.write(`  ${s} s of speech done\n`);
    }
    const a = cases[0]!;
    const b = cases[cases.length - 1]!;
    const timeRatio = b.wallS / a.wallS;
    const rssRatio = b.maxRssMB / a.maxRssMB;
    const summary = {
      bench: 'generate',
      model: 'refree-mini (demo settings)',
      cpus: os.cpus().length,
      cases: cases.map((c) => ({ speechS: c.seconds, frames: c.frames, wallS: +c.wallS.toFixed(2), maxRssMB: +c.maxRssMB.toFixed(1), framesPerS: +(c.frames / c.wallS).toFixed(1), realTimeFactor: +(c.wallS / c.seconds).toFixed(3), timings: c.timings })),
      timeRatio: +timeRatio.toFixed(3),
      rssRatio: +rssRatio.toFixed(3),
      targets: { timeRatio: 6.5, rssRatio: 1.1 },
      pass: { timeRatio: timeRatio <= 6.5, rssRatio: rssRatio <= 1.1 },
    };
    if (asJson) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    const rows = summary.cases.map((c) => `  ${String(c.speechS).padStart(4)} s  ${String(c.frames).padStart(5)} frames  ${c.wallS.toFixed(2).padStart(7)} s  ${c.framesPerS.toFixed(1).padStart(6)} frames/s  ${c.realTimeFactor.toFixed(2)}× real time  peak RSS ${c.maxRssMB.toFixed(0)} MB`);
    process.stdout.write(
      [
        `generate (${summary.model}, ${summary.cpus} CPUs)`,
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
