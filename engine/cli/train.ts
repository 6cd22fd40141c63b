// `refree train prepare | sft | dpo`: the two ReFree-S2V training stages on prepared clips
// (engine/train). A progress bar with ETA and the latest loss on stderr; `--json`: JSON lines on stderr
// and one result object on stdout. Ctrl-C saves a checkpoint and stops; the same command resumes.
// `--estimate` prints the memory and time a step would take, and runs nothing.
import { formatDuration } from '../model/package/progress.js';
import { CancelledError } from '../common/engine-errors.js';
import type { Backend } from '../runtime/session.js';
import type { TrainEvent } from '../train/events.js';
import { runDpo } from '../train/dpo.js';
import { runSft } from '../train/sft.js';
import type { DpoSettings, SftSettings } from '../train/settings.js';
import type { CliIO, Command, CommandContext, OptionSpec } from './command.js';
import { UsageError } from './command.js';
import { ProgressLine } from './progress-line.js';
import { TRAIN_PREPARE_HELP, TRAIN_PREPARE_OPTIONS, trainPrepareCommand } from './train-prepare.js';
import { estimateCommand } from './train-estimate.js';
import { TRAIN_VAE_HELP, TRAIN_VAE_OPTIONS, trainVaeCommand } from './train-vae.js';

const HELP = `Usage: refree train prepare <folder> --model <package> [--out <dataset>] [--json]
       refree train sft --dataset <dataset> --model <package> --run <folder> [options] [--json]
       refree train dpo --dataset <dataset> --model <sft-run>/adapter --run <folder> [options] [--json]
       refree train sft|dpo ... --estimate

Fine-tunes a model on your own clips in two stages: supervised fine-tuning (SFT) with extra weight on the
lips and face, then masked-speech preference tuning (DPO) against the model's own generations with parts
of the speech hidden. Each run is a folder: checkpoints, metrics.jsonl, samples, and the result in
<run>/adapter — a model package that \`refree generate --model <run>/adapter\` uses.
Stop with Ctrl-C at any time: a checkpoint is saved, and the same command continues from it.

Options (sft and dpo):
  --dataset <dir>        a folder made by \`refree train prepare\`
  --model <package>      the model to train (dpo: the SFT run's adapter folder)
  --run <folder>         where the run lives (a new or empty folder, or the run to resume)
  --steps <n>            optimizer updates (sft 1000, dpo 200)
  --batch <n>            windows (sft) or tuples (dpo) per update (sft 4, dpo 1)
  --accumulation <n>     micro-batches per update (default 1)
  --frames <n>           latent frames per training window, the reference frame included (default 5)
  --lr <x>               learning rate (sft 1e-4, dpo 1e-5), warm-up then cosine decay
  --warmup <n>           warm-up steps
  --seed <n>             seed of everything random in the run (default 0)
  --rank <n> --alpha <x> LoRA rank and alpha (default 16, 16)
  --targets <list>       LoRA targets (default q,k,v,o,ffn.0,ffn.2); "none" trains no LoRA
  --train <groups>       DiT parameters trained in full: name prefixes, or "all" (small models only)
  --recompute            recompute activations per block (less memory, about one more forward per step)
  --checkpoint-every <n> checkpoint interval in steps (sft 100, dpo 50)
  --sample-every <n>     write a sample video every n steps (default 0: none)
  --backend <b>          cuda | webgpu | cpu (default cpu)
  --estimate             print the peak memory and time per step for these settings, and stop
SFT only:
  --lip <w> --face <w> --rest <w>   regional loss weights (default 100, 30, 1)
  --speech-drop <p>      share of windows trained without speech, for guidance (default 0.1)
  --portrait-start <p>   share of windows that start at the clip's first frame, as a video's first
                         chunk starts at the portrait (default 0: windows start anywhere)
  --motion-noise <x>     noise of up to this standard deviation on the reference frame of windows that
                         start later in a clip, as a later chunk starts from a generated frame (default 0)
  --anchor-share <p>     share of windows trained as a later chunk that also sees the portrait (default
                         0.5 for a model that samples with the portrait anchor, as refree-mini does; else 0)
  --face-balance <x>     raise the face and lip weights of low-contrast (e.g. darker-skinned) faces by
                         up to x times, by their portrait's contrast (default: every clip the same)
DPO only:
  --beta <x>             preference strength (default 2500; = 5000 in the original code's −½β form)
  --mask-ratios <list>   speech hidden in the generated negatives, best first (default 0,0.2,0.4)
  --ref-decay <x>        EMA decay of the reference model (default 0.99; 1 = a frozen copy)
  --weighting <w>        uniform | regional per-element error (default uniform)
  --sample-steps <n>     sampler steps for the negatives (default 8)
  --sft-weight <x>       also lower the error on the ground truth, with this weight (default 0: plain
                         DPO, which can let that error grow while it widens the preference margin)
  --max-u <x>            skip the noisiest timesteps: draw u in [0, x) before the shift (default 1)

${TRAIN_PREPARE_HELP}

${TRAIN_VAE_HELP}`;

const RUN_OPTIONS: OptionSpec = {
  dataset: { type: 'string' },
  run: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  accumulation: { type: 'string' },
  frames: { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  seed: { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  train: { type: 'string' },
  recompute: { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
  'sample-every': { type: 'string' },
  estimate: { type: 'boolean' },
  lip: { type: 'string' },
  face: { type: 'string' },
  rest: { type: 'string' },
  'speech-drop': { type: 'string' },
  'portrait-start': { type: 'string' },
  'motion-noise': { type: 'string' },
  'anchor-share': { type: 'string' },
  'face-balance': { type: 'string' },
  beta: { type: 'string' },
  'mask-ratios': { type: 'string' },
  'ref-decay': { type: 'string' },
  'sft-weight': { type: 'string' },
  weighting: { type: 'string' },
  'sample-steps': { type: 'string' },
  'max-u': { type: 'string' },
};

function num(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'}, got "${String(v)}"`);
  return n;
}

const list = (v: unknown): string[] | undefined => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

/** The settings given on the command line (only those given; the stage fills in its defaults). */
export function settingsFromArgs(v: CommandContext['values'], stage: 'sft' | 'dpo'): Partial<SftSettings & DpoSettings> {
  const out: Partial<SftSettings & DpoSettings> = {};
  const set = <K extends keyof (SftSettings & DpoSettings)>(k: K, x: (SftSettings & DpoSettings)[K] | undefined): void => {
    if (x !== undefined) out[k] = x;
  };
  set('steps', num(v.steps, 'steps', true));
  set('batch', num(v.batch, 'batch', true));
  set('accumulation', num(v.accumulation, 'accumulation', true));
  set('frames', num(v.frames, 'frames', true));
  set('lr', num(v.lr, 'lr'));
  set('warmup', num(v.warmup, 'warmup', true));
  set('seed', num(v.seed, 'seed', true));
  set('checkpointEvery', num(v['checkpoint-every'], 'checkpoint-every', true));
  set('sampleEvery', num(v['sample-every'], 'sample-every', true));
  set('maxU', num(v['max-u'], 'max-u'));
  if (v.recompute === true) out.recompute = true;
  const targets = list(v.targets);
  const rank = num(v.rank, 'rank', true);
  const alpha = num(v.alpha, 'alpha');
  if (targets?.length === 1 && targets[0] === 'none') out.lora = null;
  else if (targets || rank !== undefined || alpha !== undefined) {
    const r = rank ?? 16;
    out.lora = { rank: r, alpha: alpha ?? r, targets: targets ?? ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'] };
  }
  const groups = list(v.train);
  if (groups) out.ditGroups = groups;
  const only = (names: string[], other: string): void => {
    for (const n of names) if (v[n] !== undefined) throw new UsageError(`--${n} is a ${other.toUpperCase()} option`);
  };
  if (stage === 'sft') {
    only(['beta', 'mask-ratios', 'ref-decay', 'weighting', 'sample-steps', 'sft-weight'], 'dpo');
    const lip = num(v.lip, 'lip');
    const face = num(v.face, 'face');
    const rest = num(v.rest, 'rest');
    if (lip !== undefined || face !== undefined || rest !== undefined) out.regions = { lip: lip ?? 100, face: face ?? 30, rest: rest ?? 1 };
    set('speechDrop', num(v['speech-drop'], 'speech-drop'));
    set('portraitStart', num(v['portrait-start'], 'portrait-start'));
    set('motionNoise', num(v['motion-noise'], 'motion-noise'));
    set('anchorShare', num(v['anchor-share'], 'anchor-share'));
    set('faceBalance', num(v['face-balance'], 'face-balance'));
  } else {
    only(['lip', 'face', 'rest', 'speech-drop', 'portrait-start', 'motion-noise', 'anchor-share', 'face-balance'], 'sft');
    set('beta', num(v.beta, 'beta'));
    const ratios = list(v['mask-ratios']);
    if (ratios) out.maskRatios = ratios.map((r) => num(r, 'mask-ratios')!);
    set('refDecay', num(v['ref-decay'], 'ref-decay'));
    set('sftWeight', num(v['sft-weight'], 'sft-weight'));
    if (v.weighting !== undefined) {
      if (v.weighting !== 'uniform' && v.weighting !== 'regional') throw new UsageError(`--weighting must be uniform or regional, got "${String(v.weighting)}"`);
      out.weighting = v.weighting;
    }
    set('sampleSteps', num(v['sample-steps'], 'sample-steps', true));
  }
  return out;
}

/** Renders training events for a person: stages as lines, a bar with the loss and ETA. */
export function humanTrainProgress(io: CliIO): (e: TrainEvent) => void {
  const bar = new ProgressLine(io);
  return (e) => {
    if (e.type === 'progress') {
      const m = e.metrics;
      const what = e.phase === 'negatives' ? `negatives ${e.done}/${e.total}` : `step ${e.done}/${e.total}${m ? `, loss ${m.loss.toPrecision(4)}${m.accuracy !== undefined ? `, pairs right ${Math.round(m.accuracy * 100)} %` : ''}` : ''}`;
      bar.update(e.fraction, `${what}, ${formatDuration(e.elapsedS)} elapsed, ETA ${e.etaS === null ? '?' : formatDuration(e.etaS)}`, e.done === e.total);
    } else if (e.type === 'stage') bar.message(e.message);
    else if (e.type === 'warning') bar.message(`warning: ${e.message}`);
    else if (e.type === 'resumed') bar.message(`resuming from step ${e.step} (${e.checkpoint})`);
    else if (e.type === 'sample') bar.message(`sample at step ${e.step}: ${e.file}`);
  };
}

async function runStage(ctx: CommandContext, stage: 'sft' | 'dpo'): Promise<number> {
  const v = ctx.values;
  for (const k of ['dataset', 'model', 'run'] as const) {
    if (typeof v[k] !== 'string' && !(k !== 'model' && v.estimate)) throw new UsageError(`--${k} is required (see refree train --help)`);
  }
  const backend = v.backend as Backend | undefined;
  if (backend !== undefined && !['cuda', 'webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${backend}"`);
  const settings = settingsFromArgs(v, stage);
  if (v.estimate) return estimateCommand(ctx, stage, settings);
  const onEvent = ctx.json ? (e: TrainEvent): void => ctx.io.stderr(`${JSON.stringify(e)}\n`) : humanTrainProgress(ctx.io);
  const opts = { dataset: v.dataset as string, model: v.model as string, run: v.run as string, settings, ...(backend ? { backend } : {}) };
  try {
    const r = stage === 'sft' ? await runSft(opts, { onEvent, signal: ctx.signal }) : await runDpo(opts, { onEvent, signal: ctx.signal });
    if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: true, stage, ...r }));
    else {
      if (ctx.io.isTTY) ctx.io.stderr('\n');
      ctx.io.stdout(
        [
          r.adapter,
          `  ${stage.toUpperCase()}: ${r.steps} steps${r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : ''}, final loss ${r.finalLoss ?? '–'}, ${r.parameters.toLocaleString('en-US')} trained parameters, ${r.seconds} s`,
          `  metrics: ${r.run}/metrics.jsonl`,
          stage === 'sft' ? `  next: refree train dpo --dataset ${v.dataset as string} --model ${r.adapter} --run <folder>` : `  use it: refree generate --model ${r.adapter} --portrait <image> --audio <speech> --out <video.mp4>`,
        ].join('\n'),
      );
    }
    return 0;
  } catch (e) {
    const cancelled = e instanceof CancelledError;
    const message = (e as Error).message;
    if (ctx.json) {
      ctx.io.stdout(JSON.stringify({ ok: false, cancelled, error: message }));
      return cancelled ? 130 : 1;
    }
    ctx.io.stderr(`\nrefree train ${stage}: ${message}\n`);
    return cancelled ? 130 : 1;
  }
}

export const train: Command = {
  name: 'train',
  summary: 'fine-tune a model on your own clips: prepare, SFT, then masked-speech DPO (and train a small VAE)',
  help: HELP,
  options: { ...TRAIN_PREPARE_OPTIONS, ...RUN_OPTIONS, ...TRAIN_VAE_OPTIONS },
  async run(ctx) {
    const [sub] = ctx.positionals;
    if (sub === 'prepare') return trainPrepareCommand(ctx);
    if (sub === 'vae') return trainVaeCommand(ctx);
    if (sub === 'sft' || sub === 'dpo') {
      if (ctx.positionals.length > 1) throw new UsageError(`refree train ${sub} takes no positional arguments (got ${ctx.positionals.slice(1).join(' ')})`);
      return runStage(ctx, sub);
    }
    throw new UsageError(sub ? `unknown train step "${sub}": use prepare, sft, dpo or vae` : 'say which step: refree train prepare | sft | dpo | vae');
  },
};
