// The engine jobs the studio's queue runs, loaded into the engine process with --jobs=<this file>:
//   studio.generate — a preview or an export through the generation pipeline (engine/pipeline), which
//                     resumes from the chunk checkpoints it keeps in the job's work folder;
//   studio.device   — which backends work here (probes load ORT, so they run in the engine, never
//                     in a host's event loop);
//   studio.train    — one training stage in its run folder (train-job.ts), resumed from its checkpoint.
// The pipeline is imported lazily, so the engine starts quickly and studio.device never loads it.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { CancelledError } from '../common/engine-errors.js';
import type { JobContext, JobTable } from '../runtime/engine-jobs.js';
import { BACKEND_ORDER, planBackends } from '../runtime/backends.js';
import type { Backend } from '../runtime/session.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { EngineJobEnvelope } from './engine-runner.js';
import { encodeProgressMessage } from './progress-message.js';
import { trainJob } from './train-job.js';
import type * as PipelineModule from '../pipeline/index.js';

/** What the queue's preview/export jobs carry (built by the service). */
export interface GenerateJobParams {
  mode: 'preview' | 'export';
  portrait: { path: string; crop: { x: number; y: number; size: number } | null };
  audio: { path: string; trim: { start: number; end: number } | null };
  settings: Record<string, unknown>;
  /** Preview: only this many seconds from the trim start. */
  seconds: number | null;
  output: string;
  watermark: { visible: boolean; text: string; position: string };
  /** Model package folder. */
  modelPath: string | null;
}

/** Preview: the first seconds at low cost (fewer sampler steps); the same model, size and seed. */
export const PREVIEW_MAX_STEPS = 8;

type Pipeline = typeof PipelineModule;

async function loadPipeline(): Promise<Pipeline> {
  // Lazy: the engine starts (and answers studio.device) without loading the whole pipeline.
  return import('../pipeline/index.js');
}

function backendOf(env: EngineJobEnvelope): Backend | undefined {
  const b = env.backend;
  return typeof b === 'string' && (BACKEND_ORDER as readonly string[]).includes(b) ? (b as Backend) : undefined;
}

/** The pipeline's options for one queue job (exported for tests). */
export function pipelineOptions(p: GenerateJobParams, env: EngineJobEnvelope): Parameters<Pipeline['generateVideo']>[0] {
  const s = p.settings as { steps?: number; seed?: number; guidance?: number; width?: number; fps?: number; sampler?: 'euler' | 'unipc' };
  const trim = p.audio.trim;
  const start = trim?.start ?? 0;
  const end = p.mode === 'preview' ? Math.min(trim?.end ?? Infinity, start + (p.seconds ?? 3)) : trim?.end;
  const backend = backendOf(env);
  return {
    portrait: p.portrait.path,
    audio: p.audio.path,
    start,
    ...(end !== undefined && Number.isFinite(end) ? { end } : {}),
    ...(p.modelPath ? { model: p.modelPath } : {}),
    ...(s.steps !== undefined ? { steps: p.mode === 'preview' ? Math.min(s.steps, PREVIEW_MAX_STEPS) : s.steps } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.guidance !== undefined ? { guidance: s.guidance } : {}),
    ...(s.fps !== undefined ? { fps: s.fps } : {}),
    // The model generates at its package's trained size; the studio's width is the written video's
    // side (square frames; the UI keeps height equal).
    ...(s.width !== undefined ? { outputSize: s.width } : {}),
    ...(s.sampler ? { solver: s.sampler } : {}),
    ...(p.portrait.crop ? { crop: p.portrait.crop } : {}),
    label: p.watermark.visible ? { text: p.watermark.text, position: p.watermark.position as 'bottom-right' } : false,
    out: p.output,
    // Chunk checkpoints go in a subfolder: the pipeline deletes its job folder on success, and the
    // preview frames beside it must outlive the run.
    workDir: path.join(env.workDir, 'chunks'),
    // A later attempt (after a crash, a restart, a pause or a retry) continues from the checkpoints.
    resume: env.attempt > 1,
    jobId: env.jobId,
    ...(backend ? { backend } : {}),
  };
}

async function generate(raw: unknown, ctx: JobContext): Promise<unknown> {
  const env = raw as EngineJobEnvelope;
  const p = env.params as GenerateJobParams;
  if (!p || typeof p.output !== 'string' || !p.portrait || !p.audio) throw new Error('studio.generate: the job has no portrait, speech or output path');
  const { generateVideo } = await loadPipeline();
  const previews = path.join(env.workDir, 'previews');
  await mkdir(previews, { recursive: true });
  // The pipeline stops on an AbortSignal; a cancel arrives over IPC as ctx.cancelled, read whenever
  // the event loop turns (between model runs), so a timer bridges the two.
  const ac = new AbortController();
  const poll = setInterval(() => {
    if (ctx.cancelled) ac.abort();
  }, 50);
  let last = { done: 0, total: 0 };
  let seq = 0;
  let writing = Promise.resolve();
  try {
    const result = await generateVideo(pipelineOptions(p, env), {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress') {
          last = { done: e.done, total: e.total };
          // Steps count from 1 as people do; step = steps means the chunk is being decoded. A preview runs
          // fewer steps than the settings say, and says so, so "step 8 of 8" never contradicts "Steps: 20".
          const asked = typeof p.settings.steps === 'number' ? p.settings.steps : null;
          const stepText = e.step >= e.steps ? 'decoding and writing frames' : `step ${e.step + 1} of ${e.steps}${p.mode === 'preview' && asked !== null && asked > e.steps ? ` (a preview uses ${e.steps} of your ${asked} steps)` : ''}`;
          ctx.progress(e.done, e.total, `chunk ${e.chunk + 1} of ${e.chunks} · ${stepText} · ${e.framesWritten} of ${e.frames} frames`);
        } else if (e.type === 'stage' || e.type === 'warning') {
          if (last.total > 0) ctx.progress(last.done, last.total, e.message);
        } else if (e.type === 'preview') {
          const n = ++seq;
          const file = path.join(previews, `preview-${n}.png`);
          const { width, height, rgb } = e;
          // Written in order off the event callback; the one before the previous is removed.
          writing = writing
            .then(async () => {
              await writeFileAtomic(file, await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer());
              ctx.progress(0, 0, encodeProgressMessage({ preview: file }));
              if (n > 2) await rm(path.join(previews, `preview-${n - 2}.png`), { force: true });
            })
            .catch(() => undefined);
        }
      },
    });
    await writing;
    return { ...result, output: result.output };
  } catch (e) {
    if (ac.signal.aborted && (e as Error).name !== 'CancelledError') throw new CancelledError('the job was cancelled');
    throw e;
  } finally {
    clearInterval(poll);
  }
}

export interface DeviceProbe {
  backends: { backend: Backend; usable: boolean; reason: string | null }[];
}

async function device(): Promise<DeviceProbe> {
  const plan = await planBackends();
  return {
    backends: BACKEND_ORDER.map((b) => {
      const skip = plan.skipped.find((s) => s.startsWith(`${b}:`));
      return { backend: b, usable: plan.order.includes(b), reason: skip ? skip.slice(b.length + 1).trim() : null };
    }),
  };
}

export const jobs: JobTable = {
  'studio.generate': generate,
  'studio.device': device,
  'studio.train': trainJob,
};
