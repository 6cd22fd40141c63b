// `refree train vae --clips <folder> --out <run>`: trains a small Wan2.2-style VAE from scratch on
// synthetic clips (engine/train/vae). A progress bar with the loss, reconstruction PSNR and ETA for
// people; `--json` prints progress as JSON lines on stderr and exactly one JSON object on stdout.
// Ctrl-C saves a checkpoint; the same command continues from it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelledError } from '../common/engine-errors.js';
import type { VaeConfig } from '../model/config.js';
import { formatDuration } from '../model/package/progress.js';
import type { Backend } from '../runtime/session.js';
import type { TrainEvent } from '../train/events.js';
import type { VaeSettings } from '../train/vae/train.js';
import { VAE_DEFAULTS, runVaeTraining } from '../train/vae/train.js';
import type { CommandContext, OptionSpec } from './command.js';
import { UsageError } from './command.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MINI_SPEC_FILE = path.resolve(here, '..', '..', 'assets', 'models', 'refree-mini', 'spec.json');

export const TRAIN_VAE_HELP = `Usage: refree train vae --clips <folder> --out <run> [options] [--json]

Trains the video autoencoder (VAE) of a small model from scratch on synthetic clips made by
\`refree synth\`: each window of frames is encoded to latents and decoded back, and the error counts
extra inside the lips and the face so the mouth stays sharp. The run folder keeps checkpoints and
metrics.jsonl; stop with Ctrl-C at any time and the same command continues. At the end the latent
statistics are measured and built into the weights, and the reconstruction quality is reported:
<run>/vae.safetensors (the weights) and <run>/vae.json (statistics and PSNR).

Options:
  --clips <folder>       clips from \`refree synth\` (<name>.mp4 + <name>.json)
  --out <folder>         the run folder (a new or empty folder, or the run to resume)
  --spec <file>          model spec whose "architecture.vae" is trained (default: refree-mini's)
  --eval-clips <folder>  held-out clips for the final quality numbers (default: training clips)
  --init <file>          start from these weights (an earlier run's vae.safetensors) to train longer
  --decoder-only         train the decoder alone; the encoder of --init stays exactly as it is, so
                         datasets and models made with it stay valid
  --dec-dim <n>          the decoder's base width instead of the spec's decDim (e.g. a wider decoder
                         trained with --decoder-only)
  --latent-noise <x>     with --decoder-only: add Gaussian noise of up to this standard deviation to
                         the latents while training, so the decoder draws clean frames from the
                         slightly-off latents a generator samples (default 0; latents have std ≈ 1)
  --steps <n>            optimizer updates (default ${VAE_DEFAULTS.steps})
  --batch <n>            clip windows per update (default ${VAE_DEFAULTS.batch})
  --frames <n>           frames per window, s·n + 1 for the VAE's time stride s (default ${VAE_DEFAULTS.frames})
  --size <n>             training size in pixels (default ${VAE_DEFAULTS.size})
  --lr <x>               learning rate, warm-up then cosine decay (default ${VAE_DEFAULTS.lr})
  --warmup <n>           warm-up steps (default ${VAE_DEFAULTS.warmup})
  --lip <w> --face <w>   extra loss weight inside the lips and the face (default ${VAE_DEFAULTS.lipWeight}, ${VAE_DEFAULTS.faceWeight})
  --detail <w>           extra loss weight on the face's edges (eyes, brows, lip lines), measured
                         against each face's own contrast, so darker faces keep their features as
                         sharp as lighter ones (default ${VAE_DEFAULTS.detailWeight}: none)
  --latent-reg <x>       weight of the latent size penalty (default ${VAE_DEFAULTS.latentReg})
  --max-clips <n>        read at most this many clips (default ${VAE_DEFAULTS.maxClips})
  --seed <n>             seed of the initial weights and the batches (default 0)
  --checkpoint-every <n> checkpoint interval in steps (default ${VAE_DEFAULTS.checkpointEvery})
  --backend <b>          cuda | webgpu | cpu (default cpu)
  --json                 progress as JSON lines on stderr; one JSON result object on stdout`;

export const TRAIN_VAE_OPTIONS: OptionSpec = {
  clips: { type: 'string' },
  out: { type: 'string' },
  spec: { type: 'string' },
  'eval-clips': { type: 'string' },
  init: { type: 'string' },
  'decoder-only': { type: 'boolean' },
  'latent-noise': { type: 'string' },
  'dec-dim': { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  frames: { type: 'string' },
  size: { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  lip: { type: 'string' },
  face: { type: 'string' },
  detail: { type: 'string' },
  'latent-reg': { type: 'string' },
  'max-clips': { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  backend: { type: 'string' },
};

function num(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} ≥ 0, got "${String(v)}"`);
  return n;
}

/** The VAE config of a model spec (refree-mini's spec.json, or any JSON with architecture.vae). */
export async function vaeConfigFromSpec(file: string): Promise<VaeConfig> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) throw new UsageError(`the spec ${file} does not exist: give a JSON file with "architecture": { "vae": { ... } }`);
  let spec: { architecture?: { vae?: VaeConfig } };
  try {
    spec = JSON.parse(text) as typeof spec;
  } catch (e) {
    throw new UsageError(`the spec ${file} is not valid JSON (${(e as Error).message})`);
  }
  const vae = spec.architecture?.vae;
  if (!vae || typeof vae.zDim !== 'number' || !Array.isArray(vae.dimMult)) throw new UsageError(`the spec ${file} has no "architecture.vae" with zDim, encDim, decDim, dimMult, numResBlocks, temporalDownsample and pixelPatch`);
  return vae;
}

export function vaeSettingsFromArgs(v: CommandContext['values']): Partial<Omit<VaeSettings, 'vae'>> {
  const out: Partial<Omit<VaeSettings, 'vae'>> = {};
  const set = <K extends keyof Omit<VaeSettings, 'vae'>>(k: K, x: VaeSettings[K] | undefined): void => {
    if (x !== undefined) out[k] = x;
  };
  set('steps', num(v.steps, 'steps', true));
  set('batch', num(v.batch, 'batch', true));
  set('frames', num(v.frames, 'frames', true));
  set('size', num(v.size, 'size', true));
  set('lr', num(v.lr, 'lr'));
  set('warmup', num(v.warmup, 'warmup', true));
  set('lipWeight', num(v.lip, 'lip'));
  set('faceWeight', num(v.face, 'face'));
  set('detailWeight', num(v.detail, 'detail'));
  set('latentReg', num(v['latent-reg'], 'latent-reg'));
  set('latentNoise', num(v['latent-noise'], 'latent-noise'));
  set('maxClips', num(v['max-clips'], 'max-clips', true));
  set('seed', num(v.seed, 'seed', true));
  set('checkpointEvery', num(v['checkpoint-every'], 'checkpoint-every', true));
  if (v['decoder-only'] === true) out.decoderOnly = true;
  return out;
}

function progress(ctx: CommandContext): (e: TrainEvent) => void {
  if (ctx.json) return (e) => ctx.io.stderr(`${JSON.stringify(e)}\n`);
  let lastPlain = -1;
  let lastDraw = 0;
  return (e) => {
    if (e.type === 'progress') {
      const m = e.metrics;
      const filled = Math.round(Math.min(1, e.fraction) * 24);
      const line = `${`${Math.floor(e.fraction * 100)}%`.padStart(4)} [${'='.repeat(filled)}${' '.repeat(24 - filled)}] step ${e.done}/${e.total}${m ? `, loss ${m.loss.toPrecision(4)}, PSNR ${String(m.psnr)} dB` : ''}, ${formatDuration(e.elapsedS)} elapsed, ETA ${e.etaS === null ? '?' : formatDuration(e.etaS)}`;
      if (ctx.io.isTTY) {
        if (performance.now() - lastDraw < 100 && e.done < e.total) return;
        lastDraw = performance.now();
        ctx.io.stderr(`\r${line}\x1b[K`);
      } else if (e.fraction - lastPlain >= 0.05 || e.done === e.total) {
        lastPlain = e.fraction;
        ctx.io.stderr(`${line}\n`);
      }
      return;
    }
    if (ctx.io.isTTY) ctx.io.stderr('\r\x1b[K');
    if (e.type === 'stage') ctx.io.stderr(`${e.message}\n`);
    else if (e.type === 'resumed') ctx.io.stderr(`resuming from step ${e.step} (${e.checkpoint})\n`);
    else if (e.type === 'warning') ctx.io.stderr(`warning: ${e.message}\n`);
  };
}

/** `refree train vae` (a leading "vae" positional left by the dispatcher is ignored). */
export async function trainVaeCommand(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  const pos = ctx.positionals[0] === 'vae' ? ctx.positionals.slice(1) : ctx.positionals;
  if (pos.length > 0) throw new UsageError(`refree train vae takes no positional arguments (got ${pos.join(' ')}): use --clips <folder> --out <run>`);
  if (typeof v.clips !== 'string') throw new UsageError('--clips <folder> is required: the clips `refree synth` wrote');
  if (typeof v.out !== 'string') throw new UsageError('--out <folder> is required: where the VAE run lives (a new folder, or the run to resume)');
  const backend = v.backend as Backend | undefined;
  if (backend !== undefined && !['cuda', 'webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${backend}"`);
  const spec = await vaeConfigFromSpec(typeof v.spec === 'string' ? v.spec : MINI_SPEC_FILE);
  const decDim = num(v['dec-dim'], 'dec-dim', true);
  if (decDim === 0) throw new UsageError('--dec-dim must be at least 1');
  const vae = decDim === undefined ? spec : { ...spec, decDim };
  const settings = { vae, ...vaeSettingsFromArgs(v) };
  try {
    const r = await runVaeTraining({ clips: v.clips, out: v.out, settings, ...(typeof v['eval-clips'] === 'string' ? { evalClips: v['eval-clips'] } : {}), ...(typeof v.init === 'string' ? { init: v.init } : {}), ...(backend ? { backend } : {}) }, { onEvent: progress(ctx), signal: ctx.signal });
    if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: true, stage: 'vae', ...r }));
    else {
      const q = (name: string, x: { psnr: number; mouthPsnr: number } | null): string => (x ? `  ${name}: PSNR ${x.psnr} dB, mouth ${x.mouthPsnr} dB` : '');
      ctx.io.stdout(
        [
          r.weights,
          `  VAE: ${r.steps} steps${r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : ''}, final loss ${r.finalLoss ?? '–'}, ${r.parameters.toLocaleString('en-US')} parameters trained, ${r.seconds} s`,
          q('training clips', r.train),
          q('held-out clips', r.heldout),
          `  metrics: ${r.run}/metrics.jsonl; statistics and quality: ${r.run}/vae.json`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    }
    return 0;
  } catch (e) {
    const cancelled = e instanceof CancelledError;
    const message = (e as Error).message;
    if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: false, cancelled, error: message }));
    else ctx.io.stderr(`\nrefree train vae: ${message}\n`);
    return cancelled ? 130 : 1;
  }
}

/**
 * Runs the command directly (`node --import tsx engine/cli/train-vae.ts --clips ... --out ...`), for
 * scripts that must work whether or not `refree train vae` is listed in this build's CLI.
 */
async function runDirect(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), options: { ...TRAIN_VAE_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${TRAIN_VAE_HELP}\n`);
    return;
  }
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  process.on('SIGTERM', () => controller.abort());
  const io = { stdout: (t: string) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`), stderr: (t: string) => void process.stderr.write(t), isTTY: process.stderr.isTTY === true };
  try {
    process.exitCode = await trainVaeCommand({ values, positionals, json: values.json === true, io, signal: controller.signal });
  } catch (e) {
    process.stderr.write(`refree train vae: ${(e as Error).message}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runDirect();
