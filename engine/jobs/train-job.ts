// The queue's training job (`studio.train`), run in the engine process like exports: optionally
// prepares the clips, then runs one stage (SFT or DPO) in its run folder. The run folder is the job's
// resume point: a pause or a cancel saves a checkpoint and stops; a later attempt (after a pause, a
// crash of the engine, or a restart of the app) finds run.json and the newest checkpoint and continues
// from there with the same settings. Progress is the run's own step count, so it never goes backwards
// across attempts. The charts read the run's metrics.jsonl (the one source of training numbers).
import { CancelledError } from '../common/engine-errors.js';
import type { JobContext } from '../runtime/engine-jobs.js';
import type { Backend } from '../runtime/session.js';
import type { EngineJobEnvelope } from './engine-runner.js';
import type { TrainEvent } from '../train/events.js';

/** What a training job carries (built by the service or the CLI). */
export interface TrainJobParams {
  stage: 'sft' | 'dpo';
  /** Prepared dataset folder (made first from `prepareFrom` when given). */
  dataset: string;
  /** Clips folder to prepare into `dataset` before training (skipped clips already prepared). */
  prepareFrom?: string | null;
  /** Square training size in pixels for that preparation (default: the model's generation size). */
  prepareSize?: number | null;
  /** Model package (DPO: the SFT adapter). */
  model: string;
  /** Run folder. */
  run: string;
  settings: Record<string, unknown>;
}

export function checkTrainParams(p: unknown): TrainJobParams {
  const q = p as Partial<TrainJobParams> | null;
  if (!q || (q.stage !== 'sft' && q.stage !== 'dpo')) throw new Error('studio.train: the job names no stage (sft or dpo)');
  for (const k of ['dataset', 'model', 'run'] as const) if (typeof q[k] !== 'string' || !q[k]) throw new Error(`studio.train: the job has no ${k} folder`);
  if (q.prepareSize !== undefined && q.prepareSize !== null && (!Number.isInteger(q.prepareSize) || q.prepareSize < 16)) throw new Error(`studio.train: the training size must be a whole number of pixels, got ${String(q.prepareSize)}`);
  return { stage: q.stage, dataset: q.dataset!, model: q.model!, run: q.run!, settings: (q.settings ?? {}) as Record<string, unknown>, prepareFrom: q.prepareFrom ?? null, prepareSize: q.prepareSize ?? null };
}

export async function trainJob(raw: unknown, ctx: JobContext): Promise<unknown> {
  const env = raw as EngineJobEnvelope;
  const p = checkTrainParams(env.params);
  const backend = typeof env.backend === 'string' ? (env.backend as Backend) : undefined;
  // Lazy: the engine answers other jobs without loading the trainer.
  const { runSft } = await import('../train/sft.js');
  const { runDpo } = await import('../train/dpo.js');
  const ac = new AbortController();
  const poll = setInterval(() => {
    if (ctx.cancelled) ac.abort();
  }, 50);
  try {
    if (p.prepareFrom) {
      const { prepareDataset } = await import('../train/prepare/index.js');
      await prepareDataset({
        input: p.prepareFrom,
        model: p.model,
        out: p.dataset,
        ...(p.prepareSize ? { size: p.prepareSize } : {}),
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'progress') ctx.progress(0, 0, `preparing clip ${e.clip + 1} of ${e.clips} (${e.stage})`);
        },
      });
    }
    const opts = { dataset: p.dataset, model: p.model, run: p.run, settings: p.settings, ...(backend ? { backend } : {}) };
    const hooks = {
      signal: ac.signal,
      onEvent: (e: TrainEvent): void => {
        if (e.type === 'progress') {
          const m = e.metrics;
          const msg = e.phase === 'negatives' ? `generating negatives ${e.done} of ${e.total}` : `step ${e.done} of ${e.total}${m ? ` · loss ${m.loss.toPrecision(4)}` : ''}`;
          if (e.phase === 'train') ctx.progress(e.done, e.total, msg);
          else ctx.progress(0, 0, msg);
        } else if (e.type === 'stage') ctx.progress(0, 0, e.message);
      },
    };
    const r = p.stage === 'sft' ? await runSft(opts, hooks) : await runDpo(opts, hooks);
    return { ...r, output: r.adapter };
  } catch (e) {
    if (ac.signal.aborted && !(e instanceof CancelledError)) throw new CancelledError('the training job was stopped; its last checkpoint is kept');
    throw e;
  } finally {
    clearInterval(poll);
  }
}
