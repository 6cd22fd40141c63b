// generate.*: previews (front of the queue), exports (back of the queue) and the export summary. Every
// output is checked before it is queued: absolute, .mp4/.webm, in a folder the studio can write to,
// not an existing file, not claimed by another job, and never one of the project's inputs.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OutputIsInputError, refuseOutputOverInput } from '../../common/same-file.js';
import type { GenerateJobParams } from '../../jobs/studio-jobs.js';
import { probeMedia } from '../../media/probe.js';
import type { ExportSummary, Handlers, Project } from '../contract.js';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { checkWritableFolder } from '../folder-check.js';

type GenerateHandlers = Pick<Handlers, 'generate.preview' | 'generate.export' | 'generate.summary'>;

/** Names that mean the pipeline's built-in model (engine/pipeline/demo-model.ts), used when the studio lists no package of that name. */
export const BUILT_IN_MODEL_NAMES: readonly string[] = ['refree-mini'];

const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
export const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'video';

/** Outputs that queued, running or paused jobs will write. */
function claimedOutputs(ctx: ServiceContext): Set<string> {
  return new Set(ctx.queue.list().filter((j) => j.state !== 'done' && j.state !== 'failed' && j.state !== 'cancelled').map((j) => path.resolve((j.params as { output?: string }).output ?? '')));
}

/** A default output name that neither an existing file nor any job already claims. */
function freeOutputPath(ctx: ServiceContext, wanted: string): string {
  const taken = new Set(ctx.queue.list().map((j) => (j.params as { output?: string }).output));
  const ext = path.extname(wanted);
  const base = wanted.slice(0, -ext.length);
  let candidate = wanted;
  for (let i = 2; taken.has(candidate) || existsSync(candidate); i++) candidate = `${base}-${i}${ext}`;
  return candidate;
}

/** An output that is one of the project's inputs would destroy it: refused, naming which. */
function refuseOverInputs(project: Project, output: string): void {
  try {
    refuseOutputOverInput(output, [['the portrait', project.portrait?.path], ['the speech', project.audio?.path], ['the project file', project.path]], 'The export file');
  } catch (e) {
    if (e instanceof OutputIsInputError) throw new ServiceError('bad-input', e.message);
    throw e;
  }
}

export async function jobParams(ctx: ServiceContext, project: Project, mode: 'preview' | 'export', seconds: number | null, output: string, watermark: GenerateJobParams['watermark']): Promise<GenerateJobParams> {
  await ctx.projects.requireKnown(project.path);
  if (!project.portrait) throw new ServiceError('bad-input', 'Add a portrait to the project before generating.');
  if (!project.audio) throw new ServiceError('bad-input', 'Add a speech recording to the project before generating.');
  for (const f of [project.portrait.path, project.audio.path]) {
    if (!(await stat(f).then((s) => s.isFile(), () => false))) throw new ServiceError('not-found', `${f} is missing; import it into the project again.`);
  }
  refuseOverInputs(project, output);
  const model = await ctx.models.find(project.settings.model).catch(() => null);
  // No package listed: the pipeline uses its built-in model, but only when that was asked for.
  if (!model && !BUILT_IN_MODEL_NAMES.includes(project.settings.model)) {
    throw new ServiceError('not-found', `There is no model package named "${project.settings.model}"; import it in Settings → Models, or choose the built-in model, refree-mini.`);
  }
  return { mode, portrait: project.portrait, audio: project.audio, settings: project.settings, seconds, output, watermark, modelPath: model?.path ?? null };
}

/** Seconds per frame per sampler step, from the latest finished export (null before the first). */
function measuredRate(ctx: ServiceContext): number | null {
  const done = ctx.queue.list().filter((j) => j.kind === 'export' && j.state === 'done' && j.result);
  for (const j of done.reverse()) {
    const r = j.result as { frames?: number; timings?: { total?: number } };
    const steps = (j.params as { settings?: { steps?: number } }).settings?.steps;
    if (r.frames && r.timings?.total && steps) return r.timings.total / r.frames / steps;
  }
  return null;
}

export function generateHandlers(ctx: ServiceContext): GenerateHandlers {
  const defaultExport = (project: Project): string => freeOutputPath(ctx, path.join(ctx.settings.get().outputFolder, `${slug(project.name)}-${stamp()}.mp4`));
  return {
    'generate.preview': async ({ project, seconds }) => {
      const output = freeOutputPath(ctx, path.join(ctx.dataDir, 'previews', `${project.id}-${stamp()}.mp4`));
      await mkdir(path.dirname(output), { recursive: true });
      const params = await jobParams(ctx, project, 'preview', seconds, output, ctx.settings.get().watermark);
      const job = await ctx.queue.add({ kind: 'preview', title: `Preview · ${project.name}`, params, front: true });
      return { jobId: job.id };
    },

    'generate.export': async ({ project, output, watermark }) => {
      const out = path.resolve(output ?? defaultExport(project));
      if (!/\.(mp4|webm)$/i.test(out)) throw new ServiceError('bad-input', `The export file must end in .mp4 or .webm; got ${path.basename(out)}.`);
      refuseOverInputs(project, out);
      await checkWritableFolder(path.dirname(out), 'The export folder');
      if (existsSync(out)) throw new ServiceError('conflict', `${out} already exists; choose another file name (the studio never overwrites a file).`);
      if (claimedOutputs(ctx).has(out)) throw new ServiceError('conflict', `Another export in the queue already writes ${out}; choose another file name.`);
      const params = await jobParams(ctx, project, 'export', null, out, watermark ?? ctx.settings.get().watermark);
      const job = await ctx.queue.add({ kind: 'export', title: `Export · ${project.name} → ${path.basename(out)}`, params });
      return { jobId: job.id };
    },

    'generate.summary': async ({ project }): Promise<ExportSummary> => {
      if (!project.audio) throw new ServiceError('bad-input', 'Add a speech recording to the project to see what an export would be.');
      const s = project.settings;
      let seconds: number;
      if (project.audio.trim) seconds = project.audio.trim.end - project.audio.trim.start;
      else {
        const probed = await probeMedia(project.audio.path);
        const d = probed?.duration ?? probed?.streams.find((x) => x.codecType === 'audio')?.duration ?? null;
        if (d === null) throw new ServiceError('bad-input', `The length of ${path.basename(project.audio.path)} cannot be read; import the speech again.`);
        seconds = d;
      }
      const frames = Math.max(1, Math.round(seconds * s.fps));
      const rate = measuredRate(ctx);
      return { width: s.width, height: s.height, fps: s.fps, seconds, frames, model: s.model, steps: s.steps, estimatedSeconds: rate === null ? null : Math.round(rate * frames * s.steps), defaultOutput: defaultExport(project) };
    },
  };
}
