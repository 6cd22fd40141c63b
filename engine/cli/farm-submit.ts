// `refree farm submit`: queues one export on the render farm. The portrait, the speech, the output
// (and a model package, when given) must lie inside the shared folder; the settings are checked with
// the studio's own schemas, so a farm export is exactly the export the studio would queue locally.
// `--wait` follows the job to its end.
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { OutputIsInputError, refuseOutputOverInput } from '../common/same-file.js';
import type { FarmJobView } from '../farm/job-view.js';
import { FarmQueue } from '../farm/queue.js';
import { sharedRoot, toSharedPath } from '../farm/shared-folder.js';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import { DEFAULT_GENERATION, GenerationSettingsSchema, TrimSchema, WatermarkOptionsSchema } from '../service/contract.js';
import type { CommandContext } from './command.js';
import { UsageError } from './command.js';
import { connectionFrom, numberOption, sharedFrom } from './farm-options.js';
import { ProgressLine } from './progress-line.js';

const TERMINAL = ['done', 'failed', 'cancelled'];

function schemaSentence(r: { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } }, what: string): never {
  const i = r.error.issues[0]!;
  throw new UsageError(`${what}: ${i.path.length ? `${i.path.map(String).join('.')} ` : ''}${i.message}`);
}

/** The export job's parameters from the command line (paths absolute on this machine). */
export function submitParams(v: Record<string, unknown>, root: string): { params: GenerateJobParams; title: string } {
  for (const k of ['portrait', 'audio', 'out'] as const) if (typeof v[k] !== 'string') throw new UsageError(`--${k} is required`);
  const portrait = path.resolve(v.portrait as string);
  const audio = path.resolve(v.audio as string);
  const output = path.resolve(v.out as string);
  // Outside the shared folder: no worker could read it (FarmPathError names the path and the folder).
  toSharedPath(root, portrait, 'The portrait');
  toSharedPath(root, audio, 'The speech');
  toSharedPath(root, output, 'The output');
  for (const [label, f] of [['The portrait', portrait], ['The speech', audio]] as const) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`${label} ${f} does not exist; copy it into the shared folder first.`);
  }
  if (!/\.(mp4|webm)$/i.test(output)) throw new UsageError(`--out must end in .mp4 or .webm; got ${path.basename(output)}`);
  if (existsSync(output)) throw new UsageError(`${output} already exists; choose another file name (the farm never overwrites a file).`);
  try {
    refuseOutputOverInput(output, [['--portrait', portrait], ['--audio', audio]], '--out');
  } catch (e) {
    if (e instanceof OutputIsInputError) throw new UsageError(e.message);
    throw e;
  }
  const size = numberOption(v.size, 'size', true);
  const model = typeof v.model === 'string' ? path.resolve(v.model) : null;
  if (model) toSharedPath(root, model, 'The model package');
  const settings = GenerationSettingsSchema.safeParse({
    ...DEFAULT_GENERATION,
    ...(model ? { model: path.basename(model) } : {}),
    ...(v.steps !== undefined ? { steps: numberOption(v.steps, 'steps', true) } : {}),
    ...(v.seed !== undefined ? { seed: numberOption(v.seed, 'seed', true) } : {}),
    ...(v.guidance !== undefined ? { guidance: numberOption(v.guidance, 'guidance') } : {}),
    ...(v.fps !== undefined ? { fps: numberOption(v.fps, 'fps', true) } : {}),
    ...(size !== undefined ? { width: size, height: size } : {}),
    ...(v.sampler !== undefined ? { sampler: v.sampler } : {}),
  });
  if (!settings.success) schemaSentence(settings, 'The settings are not valid');
  const start = numberOption(v.start, 'start');
  const end = numberOption(v.end, 'end');
  let trim: { start: number; end: number } | null = null;
  if (start !== undefined || end !== undefined) {
    if (end === undefined) throw new UsageError('--start needs --end on the farm (the speech is cut to [start, end])');
    const t = TrimSchema.safeParse({ start: start ?? 0, end });
    if (!t.success) schemaSentence(t, 'The speech trim is not valid');
    trim = t.data;
  }
  const mark = WatermarkOptionsSchema.safeParse({ visible: v['no-label'] !== true, text: typeof v.label === 'string' ? v.label : 'AI-generated · ReFree', position: 'bottom-right' });
  if (!mark.success) schemaSentence(mark, 'The visible label is not valid');
  const title = typeof v.title === 'string' && v.title.trim() ? v.title.trim() : `Export → ${path.basename(output)}`;
  return {
    title,
    params: { mode: 'export', portrait: { path: portrait, crop: null }, audio: { path: audio, trim }, settings: settings.data, seconds: null, output, watermark: mark.data, modelPath: model },
  };
}

export async function farmSubmitCommand(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  const connection = connectionFrom(v);
  const root = sharedRoot(sharedFrom(v));
  const priority = numberOption(v.priority, 'priority', true);
  if (priority !== undefined && (priority < 1 || priority > 2_097_152)) throw new UsageError(`--priority must be from 1 (first) to 2097152, got ${priority}`);
  const { params, title } = submitParams(v, root);
  const q = await FarmQueue.open(connection);
  try {
    let job: FarmJobView = await q.submit(root, params, title, priority !== undefined ? { priority } : {});
    if (!ctx.json) ctx.io.stderr(`queued farm job ${job.id} "${job.title}" from ${hostname()}\n`);
    if (v.wait === true) {
      const bar = new ProgressLine(ctx.io);
      while (!TERMINAL.includes(job.state)) {
        if (ctx.signal.aborted) break;
        await new Promise((r) => setTimeout(r, 1000));
        job = await q.get(job.id);
        if (!ctx.json && job.progress && job.progress.total > 0) bar.update(job.progress.done / job.progress.total, `${job.state}${job.worker ? ` on ${job.worker}` : ''}${job.progress.message ? ` · ${job.progress.message}` : ''}`, false);
      }
      bar.clear();
    }
    const ok = job.state !== 'failed' && job.state !== 'cancelled';
    if (ctx.json) ctx.io.stdout(JSON.stringify({ ok, job }));
    else if (job.state === 'done') ctx.io.stdout(`${path.join(root, job.output)}\n  finished on ${job.worker} (${job.result?.frames ?? '?'} frames, watermark payload ${job.result?.payload ?? '?'})`);
    else if (!ok) ctx.io.stdout(`farm job ${job.id} ${job.state}: ${job.error ?? ''}`);
    else ctx.io.stdout(`${job.id}`);
    return ok ? 0 : 1;
  } finally {
    await q.close();
  }
}

