// `refree train prepare <folder> --model <package>`: turns a folder of talking-head clips into a
// prepared dataset for that model (engine/train/prepare). People get a progress bar with ETA and one
// line per clip (prepared, from the cache, or refused with the reason); `--json` prints progress as JSON
// lines on stderr and exactly one JSON object on stdout. Ctrl-C stops between clips or chunks; clips
// already prepared stay cached, so the same command continues where it stopped.
import { CancelledError } from '../common/engine-errors.js';
import { formatDuration } from '../model/package/progress.js';
import type { Backend } from '../runtime/session.js';
import type { PrepareEvent } from '../train/prepare/index.js';
import { DEFAULT_MAX_SECONDS, MIN_FRAMES, PREPARE_FPS, VIDEO_EXTENSIONS, prepareDataset } from '../train/prepare/index.js';
import type { CliIO, CommandContext, OptionSpec } from './command.js';
import { UsageError } from './command.js';
import { ProgressLine } from './progress-line.js';

export const TRAIN_PREPARE_HELP = `Usage: refree train prepare <folder> --model <package> [--out <dir>] [options] [--json]

Prepares a folder of talking-head clips for fine-tuning: each video (${VIDEO_EXTENSIONS.join(' ')}) is read at
${PREPARE_FPS} fps with its speech at 16 kHz, the face is tracked and cropped to the model's size, lip and face
masks are made from face landmarks (or from the truth file of a synthetic clip), and the model's VAE
latents and speech features are cached. Clips without a face, without speech, shorter than ${MIN_FRAMES} frames
or unreadable are refused with the reason; the others are prepared. Running it again reuses the cache
of unchanged clips; another model gets a cache of its own.

Options:
  --model <dir>        the model package to prepare for (its VAE, speech front-end and size)
  --out <dir>          the dataset folder (default: the clips folder itself)
  --size <n>           training size in pixels (default: the model's)
  --max-seconds <s>    use at most this much of each clip (default ${DEFAULT_MAX_SECONDS})
  --backend <b>        cuda | webgpu | cpu (default cpu)
  --json               progress as JSON lines on stderr; one JSON result object on stdout`;

export const TRAIN_PREPARE_OPTIONS: OptionSpec = {
  model: { type: 'string' },
  out: { type: 'string' },
  size: { type: 'string' },
  'max-seconds': { type: 'string' },
  backend: { type: 'string' },
};

function num(v: unknown, name: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'whole number' : 'number'}, got "${String(v)}"`);
  return n;
}

function humanProgress(io: CliIO): (e: PrepareEvent) => void {
  const bar = new ProgressLine(io);
  return (e) => {
    if (e.type === 'start') bar.message(`preparing ${e.clips} clip(s) for ${e.model} (${e.modelHash.slice(0, 12)}) at ${e.size}×${e.size} into ${e.out}`);
    else if (e.type === 'warning') bar.message(`warning: ${e.message}`);
    else if (e.type === 'clip-done') {
      const what = e.status === 'accepted' ? `prepared${e.cached ? ' (cached)' : ''}${e.seconds ? `, ${e.seconds.toFixed(1)} s` : ''}` : `refused${e.cached ? ' (as before)' : ''}: ${e.reason}`;
      bar.message(`  ${e.id}: ${what}`);
    } else if (e.type === 'progress') {
      bar.update(e.fraction, `clip ${e.clip + 1}/${e.clips} ${e.id} (${e.stage}), ${formatDuration(e.elapsedS)} elapsed, ETA ${e.etaS === null ? '?' : formatDuration(e.etaS)}`);
    }
  };
}

/**
 * `refree train prepare`. Positionals are the clips folder (a leading "prepare" left by a dispatcher is
 * skipped); values are parsed with TRAIN_PREPARE_OPTIONS.
 */
export async function trainPrepareCommand(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  const pos = ctx.positionals[0] === 'prepare' ? ctx.positionals.slice(1) : ctx.positionals;
  if (pos.length === 0) throw new UsageError('give the folder of clips to prepare: refree train prepare <folder> --model <package>');
  if (pos.length > 1) throw new UsageError(`give one clips folder, got ${pos.length}: ${pos.join(' ')}`);
  if (typeof v.model !== 'string') throw new UsageError('--model <package> is required: the latents and speech features are made by that model');
  const backend = v.backend as Backend | undefined;
  if (backend !== undefined && !['cuda', 'webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${backend}"`);
  const size = num(v.size, 'size', true);
  const maxSeconds = num(v['max-seconds'], 'max-seconds', false);
  if (maxSeconds !== undefined && maxSeconds * PREPARE_FPS < MIN_FRAMES) throw new UsageError(`--max-seconds must be at least ${(MIN_FRAMES / PREPARE_FPS).toFixed(2)} (${MIN_FRAMES} frames at ${PREPARE_FPS} fps), got ${maxSeconds}`);
  const onEvent = ctx.json ? (e: PrepareEvent): void => ctx.io.stderr(`${JSON.stringify(e)}\n`) : humanProgress(ctx.io);
  try {
    const r = await prepareDataset({
      input: pos[0]!,
      model: v.model,
      ...(typeof v.out === 'string' ? { out: v.out } : {}),
      ...(size !== undefined ? { size } : {}),
      ...(maxSeconds !== undefined ? { maxSeconds } : {}),
      ...(backend ? { backend } : {}),
      signal: ctx.signal,
      onEvent,
    });
    // A dataset with no usable clip is written (it records why each was refused) but is a failure.
    const none = r.accepted === 0 ? `none of the ${r.manifest.clips.length} clip(s) could be used; each one's reason is in ${r.manifestFile}` : null;
    if (ctx.json) {
      ctx.io.stdout(JSON.stringify({ ok: !none, ...(none ? { error: none } : {}), dataset: r.dataset, manifest: r.manifestFile, accepted: r.accepted, refused: r.refused, cached: r.cached, seconds: r.seconds, model: r.manifest.model, size: r.manifest.size, cache: r.manifest.cache, clips: r.manifest.clips }));
    } else {
      const refused = r.manifest.clips.filter((c) => c.status === 'refused');
      ctx.io.stdout(
        [
          r.manifestFile,
          `  ${r.accepted} clip(s) prepared, ${r.refused} refused, ${r.cached} from the cache; ${r.seconds} s`,
          `  cache for ${r.manifest.model.name} (${r.manifest.model.hash.slice(0, 12)}): ${r.manifest.cache}`,
          ...refused.map((c) => `  refused ${c.id}: ${c.reason}`),
        ].join('\n'),
      );
      if (none) ctx.io.stderr(`refree train prepare: ${none}\n`);
    }
    return none ? 1 : 0;
  } catch (e) {
    const cancelled = e instanceof CancelledError;
    const message = cancelled ? 'cancelled; the clips prepared so far are cached: run the same command again to continue' : (e as Error).message;
    if (ctx.json) {
      ctx.io.stdout(JSON.stringify({ ok: false, cancelled, error: message }));
      return cancelled ? 130 : 1;
    }
    ctx.io.stderr(`\nrefree train prepare: ${message}\n`);
    return cancelled ? 130 : 1;
  }
}
