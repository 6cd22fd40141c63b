// `refree synth --out <dir> [--count 20] [--seed 0] [--split train|heldout] [--seconds 4] [--size 128]`:
// writes synthetic talking-face clips (`synth-<split>-<seed+i>.mp4` + `.json` with the per-frame truth)
// for training, evaluation and tests. Progress with ETA on stderr; `--json` prints progress as JSON
// lines on stderr and exactly one JSON object on stdout.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration } from '../model/package/progress.js';
import { writeClip } from '../synth/clip.js';
import type { CliIO, Command } from './command.js';
import { UsageError } from './command.js';
import { ProgressLine } from './progress-line.js';

const HELP = `Usage: refree synth --out <folder> [options] [--json]

Writes synthetic talking-face clips: a drawn face speaking synthetic speech, each as <name>.mp4
(H.264 + AAC, 15 fps) and <name>.json (the per-frame truth: mouth, brows, head pose, blinks,
loudness, lip and face ellipses). The same options always give the same clips.

Options:
  --out <folder>      where the clips go (created if missing)
  --count <n>         how many clips (default 20)
  --seed <n>          seed of the first clip (default 0); clip i uses seed + i
  --split <s>         train | heldout (default train): held-out faces, voices and words never
                      appear in training clips
  --seconds <s>       length of each clip in seconds (default 4)
  --size <n>          frame size in pixels, even (default 128)
  --json              progress as JSON lines on stderr; one JSON result object on stdout`;

function wholeNumber(v: unknown, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(v)}"`);
  return n;
}

function progressWhat(done: number, total: number, elapsed: number, name: string): string {
  const eta = done ? (elapsed / done) * (total - done) : NaN;
  return `${done}/${total} clips, ${formatDuration(elapsed)} elapsed, ETA ${done ? formatDuration(eta) : '?'}  ${name}`;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir can spin forever on pseudo file systems such
 * as /proc, where a missing path cannot be created.
 */
async function makeFolders(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (st) return;
  const parent = path.dirname(dir);
  if (parent !== dir) await makeFolders(parent);
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** Creates the output folder, or says in one sentence why it cannot be used. */
async function prepareFolder(out: string): Promise<void> {
  const existing = await stat(out).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : e));
  // A file where the folder should be is a mistake on the command line (exit 2).
  if (existing && !(existing instanceof Error) && !existing.isDirectory()) throw new UsageError(`--out ${out} is a file, not a folder: give a folder to write the clips into`);
  const code = existing instanceof Error ? (existing as NodeJS.ErrnoException).code : undefined;
  if (code === 'ENOTDIR') throw new UsageError(`--out ${out}: part of that path is a file, not a folder`);
  try {
    await makeFolders(out);
    await access(out, constants.W_OK);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (c === 'ENOTDIR' || c === 'EEXIST') throw new UsageError(`--out ${out}: part of that path is a file, not a folder`, { cause: e });
    const why = c === 'EACCES' || c === 'EPERM' ? 'permission denied' : c === 'EROFS' ? 'the disk is read-only' : c === 'ENOENT' ? 'new folders cannot be made there' : (e as Error).message;
    throw new Error(`cannot write into the folder ${out} (${why}); choose another --out`, { cause: e });
  }
}

export const synth: Command = {
  name: 'synth',
  summary: 'write synthetic talking-face clips (video + per-frame truth) for training and evaluation',
  help: HELP,
  options: {
    out: { type: 'string' },
    count: { type: 'string' },
    seed: { type: 'string' },
    split: { type: 'string' },
    seconds: { type: 'string' },
    size: { type: 'string' },
  },
  async run(ctx) {
    const v = ctx.values;
    if (typeof v.out !== 'string' || v.out.trim() === '') throw new UsageError('--out <folder> is required');
    const count = wholeNumber(v.count, 'count', 20, 1, 100_000);
    const seed = wholeNumber(v.seed, 'seed', 0, 0, 2 ** 31 - 1);
    const size = wholeNumber(v.size, 'size', 128, 16, 2048);
    if (size % 2) throw new UsageError(`--size must be even (H.264 halves the colour planes), got ${size}`);
    const split = v.split ?? 'train';
    if (split !== 'train' && split !== 'heldout') throw new UsageError(`--split must be train or heldout, got "${String(split)}"`);
    let seconds = 4;
    if (v.seconds !== undefined) {
      seconds = Number(v.seconds);
      if (typeof v.seconds !== 'string' || v.seconds.trim() === '' || !Number.isFinite(seconds) || seconds < 0.2 || seconds > 600) throw new UsageError(`--seconds must be a number from 0.2 to 600, got "${String(v.seconds)}"`);
    }
    const out = path.resolve(v.out);
    const io: CliIO = ctx.io;
    const report = (message: string): number => {
      if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: false, error: message }));
      else io.stderr(`refree synth: ${message}\n`);
      return 1;
    };
    try {
      await prepareFolder(out);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return report((e as Error).message);
    }
    const t0 = performance.now();
    const clips: { name: string; video: string; truth: string; frames: number; seconds: number; identity: string; voice: string }[] = [];
    const bar = new ProgressLine(io);
    for (let i = 0; i < count; i++) {
      if (ctx.signal.aborted) break;
      const name = `synth-${split}-${seed + i}`;
      try {
        const r = await writeClip(out, name, { seed: seed + i, split, seconds, size, signal: ctx.signal });
        clips.push({ name, video: r.video, truth: r.truthFile, frames: r.truth.frames, seconds: r.truth.duration, identity: r.truth.identity.id, voice: r.truth.voice.id });
      } catch (e) {
        if (ctx.signal.aborted) break;
        if (!ctx.json && io.isTTY) io.stderr('\n');
        return report(`clip ${name}: ${(e as Error).message}`);
      }
      const done = i + 1;
      const elapsed = (performance.now() - t0) / 1000;
      if (ctx.json) {
        io.stderr(`${JSON.stringify({ type: 'progress', done, total: count, fraction: done / count, clip: name, elapsedS: Math.round(elapsed * 100) / 100, etaS: Math.round(((elapsed / done) * (count - done)) * 100) / 100 })}\n`);
      } else bar.update(done / count, progressWhat(done, count, elapsed, name), done === count);
    }
    const totalSeconds = Math.round(clips.reduce((s, c) => s + c.seconds, 0) * 1000) / 1000;
    const elapsedS = Math.round((performance.now() - t0) / 10) / 100;
    if (ctx.signal.aborted) {
      const msg = `cancelled after ${clips.length} of ${count} clips; the finished clips are in ${out}`;
      if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: false, cancelled: true, error: msg, clips: clips.length }));
      else io.stderr(`\nrefree synth: ${msg}\n`);
      return 130;
    }
    if (ctx.json) {
      ctx.io.stdout(JSON.stringify({ ok: true, folder: out, split, seed, count: clips.length, seconds: totalSeconds, size, fps: 15, elapsedS, clips }));
    } else {
      if (io.isTTY) io.stderr('\n');
      ctx.io.stdout(
        [`${clips.length} ${split} clips, ${totalSeconds} s of video at ${size}×${size}, 15 fps (seeds ${seed}–${seed + count - 1}), in ${formatDuration(elapsedS)}`, `  folder: ${out}`, `  each clip: <name>.mp4 (H.264 + AAC) and <name>.json (per-frame truth)`].join('\n'),
      );
    }
    return 0;
  },
};
