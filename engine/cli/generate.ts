// `refree generate --portrait P --audio A --out out.mp4 [...]`: the main job (engine/pipeline/generate.ts).
// People get a progress bar with ETA on stderr (redrawn in place on a terminal, a line every 10%
// otherwise); `--json` prints progress as JSON lines on stderr and exactly one JSON object on stdout.
// Ctrl-C cancels between two model runs: the partial video is removed, the chunk checkpoints stay,
// and the same command with --resume continues.
import { formatDuration } from '../model/package/progress.js';
import type { GenerateEvent, GenerateOptions } from '../pipeline/generate.js';
import { generateVideo } from '../pipeline/generate.js';
import { CancelledError } from '../common/engine-errors.js';
import { OutputIsInputError, refuseOutputOverInput } from '../common/same-file.js';
import type { Backend } from '../runtime/session.js';
import type { CliIO, Command } from './command.js';
import { UsageError } from './command.js';
import { ProgressLine } from './progress-line.js';

const HELP = `Usage: refree generate --portrait <image> --audio <speech> --out <video.mp4> [options] [--json]

Makes a lip-synced, watermarked talking-head video of the portrait saying the speech.

Options:
  --portrait <file>   the face: PNG, JPEG or WebP (cropped around the face automatically)
  --audio <file>      the speech: any audio ffmpeg reads (or a video's sound track)
  --start <s>         seconds into the audio where the speech starts (default 0)
  --end <s>           seconds into the audio where it ends (default: its end)
  --model <dir>       model package folder (default: the built-in model, refree-mini)
  --adapter <dir>     a fine-tuned adapter of that model (a training run's adapter folder)
  --steps <n>         sampler steps (default from the model)
  --seed <n>          noise seed (default 0): the same seed gives the same video on the same backend
  --fps <n>           frames per second (default 15)
  --size <n>          size the model generates at, in pixels (default from the model)
  --guidance <g>      speech guidance scale (default from the model; 1 = off)
  --sampler <s>       euler | unipc (default from the model)
  --crf <n>           H.264 quality, lower is better (default 20)
  --no-label          leave the visible "AI-generated" label off (the invisible watermark stays)
  --resume            continue an interrupted run of the same command from its last finished chunk
  --backend <b>       cuda | webgpu | cpu (default cpu for the built-in model)
  --out <file>        the video to write (.mp4, or .webm)
  --json              progress as JSON lines on stderr; one JSON result object on stdout`;

function num(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'}, got "${String(v)}"`);
  return n;
}

/** Renders events for a person: a bar with ETA, warnings and stages as lines. */
function humanProgress(io: CliIO): (e: GenerateEvent) => void {
  const bar = new ProgressLine(io);
  return (e) => {
    if (e.type === 'warning') bar.message(`warning: ${e.message}`);
    else if (e.type === 'stage') bar.message(e.message);
    else if (e.type === 'progress') {
      bar.update(e.fraction, `chunk ${e.chunk + 1}/${e.chunks}, step ${Math.min(e.step + 1, e.steps)}/${e.steps}, ${e.framesWritten}/${e.frames} frames, ${formatDuration(e.elapsedS)} elapsed, ETA ${e.etaS === null ? '?' : formatDuration(e.etaS)}`, e.done === e.total);
    }
  };
}

export const generate: Command = {
  name: 'generate',
  summary: 'make a lip-synced, watermarked talking-head video from a portrait and speech',
  help: HELP,
  options: {
    portrait: { type: 'string' },
    audio: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    model: { type: 'string' },
    adapter: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    fps: { type: 'string' },
    size: { type: 'string' },
    guidance: { type: 'string' },
    sampler: { type: 'string' },
    crf: { type: 'string' },
    'no-label': { type: 'boolean' },
    resume: { type: 'boolean' },
    backend: { type: 'string' },
    out: { type: 'string' },
  },
  async run(ctx) {
    const v = ctx.values;
    if (typeof v.portrait !== 'string') throw new UsageError('--portrait <image> is required');
    if (typeof v.audio !== 'string') throw new UsageError('--audio <speech> is required');
    if (typeof v.out !== 'string') throw new UsageError('--out <video.mp4> is required');
    try {
      refuseOutputOverInput(v.out, [['--portrait', v.portrait], ['--audio', v.audio]], '--out');
    } catch (e) {
      if (e instanceof OutputIsInputError) throw new UsageError(e.message);
      throw e;
    }
    const backend = v.backend as Backend | undefined;
    if (backend !== undefined && !['cuda', 'webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${backend}"`);
    const sampler = v.sampler as string | undefined;
    if (sampler !== undefined && sampler !== 'euler' && sampler !== 'unipc') throw new UsageError(`--sampler must be euler or unipc, got "${sampler}"`);
    const opts: GenerateOptions = {
      portrait: v.portrait,
      audio: v.audio,
      out: v.out,
      start: num(v.start, 'start'),
      end: num(v.end, 'end'),
      model: v.model as string | undefined,
      adapter: v.adapter as string | undefined,
      steps: num(v.steps, 'steps', true),
      seed: num(v.seed, 'seed', true),
      fps: num(v.fps, 'fps'),
      size: num(v.size, 'size', true),
      guidance: num(v.guidance, 'guidance'),
      ...(sampler ? { solver: sampler } : {}),
      crf: num(v.crf, 'crf', true),
      resume: v.resume === true,
      backend,
      ...(v['no-label'] ? { label: false as const } : {}),
    };
    const onEvent = ctx.json
      ? (e: GenerateEvent): void => {
          // Previews are images: in JSON mode only their size and place are reported.
          if (e.type === 'preview') ctx.io.stderr(`${JSON.stringify({ type: 'preview', chunk: e.chunk, step: e.step, steps: e.steps, width: e.width, height: e.height })}\n`);
          else ctx.io.stderr(`${JSON.stringify(e)}\n`);
        }
      : humanProgress(ctx.io);
    try {
      const r = await generateVideo(opts, { onEvent, signal: ctx.signal });
      if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: true, ...r }));
      else {
        if (ctx.io.isTTY) ctx.io.stderr('\n');
        ctx.io.stdout(
          [
            r.output,
            `  ${r.frames} frames at ${r.fps} fps (${r.duration.toFixed(2)} s; speech ${r.speechDuration.toFixed(2)} s), ${r.width}×${r.height}, seed ${r.seed}`,
            `  model ${r.model.name} (${r.model.hash.slice(0, 12)}), watermark payload ${r.payload}, ${r.timings.total} s${r.resumedChunks ? `, ${r.resumedChunks} chunk(s) resumed` : ''}`,
            `  settings and timings: ${r.sidecar}`,
          ].join('\n'),
        );
      }
      return 0;
    } catch (e) {
      const cancelled = e instanceof CancelledError;
      const message = cancelled ? `cancelled; the partial video was removed and the finished chunks kept: run the same command with --resume to continue` : (e as Error).message;
      if (ctx.json) {
        ctx.io.stdout(JSON.stringify({ ok: false, cancelled, error: message }));
        return cancelled ? 130 : 1;
      }
      ctx.io.stderr(`\nrefree generate: ${message}\n`);
      return cancelled ? 130 : 1;
    }
  },
};
