// The studio service: one implementation of the contract (contract.ts) that both hosts expose — the
// web host over HTTP + WebSocket, Electron over IPC. `dispatch` is the boundary: it validates every
// input with the method's schema and turns every failure into `{code, message}`. The heavy work runs
// in the engine process through the job queue (engine/jobs); this object only orchestrates files.
import { mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineJobRunner } from '../jobs/engine-runner.js';
import type { JobRecord } from '../jobs/job-types.js';
import { JobQueue } from '../jobs/queue.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DeviceProbe, GenerateJobParams } from '../jobs/studio-jobs.js';
import type { DeviceInfo, EngineState, EventName, Events, Handlers, JobView, MethodName, Project } from './contract.js';
import { isMethodName, methods } from './contract.js';
import { queryNvidiaGpusAsync } from './device.js';
import type { ErrorInfo } from './errors.js';
import { describeZodError, ServiceError, toServiceErrorInfo } from './errors.js';
import { blazeFaceDetector } from '../media/face-detector.js';
import type { FaceDetector } from '../media/face-detector.js';
import { suggestCrop } from './crop-suggest.js';
import { importMedia } from './media-import.js';
import { uploadMedia } from './media-upload.js';
import type { Roots } from './media-roots.js';
import { mediaUrlFor } from './media-roots.js';
import { ModelStore } from './models.js';
import { ProjectStore } from './projects.js';
import { SettingsStore } from './settings-store.js';

export const STUDIO_JOBS_MODULE = fileURLToPath(new URL('../jobs/studio-jobs.ts', import.meta.url));
export const SERVICE_VERSION = '0.1.0';

export interface StudioServiceOptions {
  /** Where projects, imports, previews, the queue, settings and models live. */
  dataDir: string;
  /** Shipped assets (demo model, sample media): served read-only under /media/assets/. */
  assetsDir?: string | null;
  /** Who runs queue jobs; default: the engine process (EngineJobRunner with the studio's job module). */
  runner?: JobRunner;
  /** Start running queued jobs at once (default true). */
  autoStart?: boolean;
}

export type ServiceListener = <E extends EventName>(event: E, payload: Events[E]) => void;

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: ErrorInfo };

/** Names that mean the pipeline's built-in demo model (engine/pipeline/demo-model.ts), which needs no package folder. */
export const BUILT_IN_MODEL_NAMES: readonly string[] = ['refree-mini', 'refree-mini-untrained'];

const NOT_AVAILABLE = 'Fine-tuning is not available in this version yet; it arrives with the training work. Generation, previews and exports work as usual.';

export class StudioService {
  readonly handlers: Handlers;
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly projectRoots = new Map<string, string>();
  private engineState: { state: EngineState; pid: number | null } = { state: 'stopped', pid: null };
  private deviceProbe: DeviceProbe | null = null;
  private probing: Promise<DeviceProbe | null> | null = null;
  /** The face detector for media.suggestCrop, loaded on first use (about 0.5 s) and kept. */
  private detector: Promise<FaceDetector> | null = null;

  private constructor(
    private readonly opts: StudioServiceOptions,
    readonly queue: JobQueue,
    readonly runner: JobRunner,
    private readonly settings: SettingsStore,
    private readonly projects: ProjectStore,
    private readonly models: ModelStore,
  ) {
    this.handlers = this.makeHandlers();
    queue.on((e) => {
      if (e.type === 'updated') this.emit('job.updated', this.view(e.job));
      else if (e.type === 'removed') this.emit('job.removed', { id: e.id });
      else if (e.type === 'reordered') this.emit('jobs.reordered', { ids: e.ids });
      else this.emit('job.preview', { id: e.id, path: e.file, url: mediaUrlFor(this.roots(), e.file) });
    });
  }

  static async create(opts: StudioServiceOptions): Promise<StudioService> {
    const dataDir = path.resolve(opts.dataDir);
    await mkdir(dataDir, { recursive: true });
    const settings = await SettingsStore.open(dataDir);
    await mkdir(settings.get().outputFolder, { recursive: true });
    // The runner reports engine states to the service, which exists only after the runner: late-bind.
    let svc: StudioService | null = null;
    const runner =
      opts.runner ??
      new EngineJobRunner({
        engineJob: (kind) => (kind === 'training' ? 'studio.train' : 'studio.generate'),
        jobModules: [STUDIO_JOBS_MODULE],
        extraParams: () => {
          const b = settings.get().backend;
          return b === 'auto' ? {} : { backend: b };
        },
        onState: (state, pid, message) => svc?.setEngineState(state, pid, message),
      });
    const queue = await JobQueue.open({ dir: path.join(dataDir, 'queue'), runner, autoStart: opts.autoStart ?? true });
    const assets = opts.assetsDir ? path.resolve(opts.assetsDir) : null;
    svc = new StudioService({ ...opts, dataDir, assetsDir: assets }, queue, runner, settings, new ProjectStore(dataDir), new ModelStore(path.join(dataDir, 'models'), assets ? path.join(assets, 'models') : null));
    return svc;
  }

  get dataDir(): string {
    return this.opts.dataDir;
  }

  /** Folders a host may serve media from; see media-roots.ts. */
  roots(): Roots {
    const m = new Map<string, string>([
      ['data', this.opts.dataDir],
      ['output', this.settings.get().outputFolder],
    ]);
    if (this.opts.assetsDir) m.set('assets', this.opts.assetsDir);
    for (const [k, v] of this.projectRoots) m.set(k, v);
    return m;
  }

  on(cb: (event: EventName, payload: unknown) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The boundary: validates `params` against the method's schema, runs it, never throws. */
  async dispatch(method: unknown, params: unknown): Promise<DispatchResult> {
    if (!isMethodName(method)) {
      return { ok: false, error: { code: 'unknown-method', message: `There is no method named ${JSON.stringify(method)}. Known methods: ${Object.keys(methods).join(', ')}.` } };
    }
    const parsed = methods[method].input.safeParse(params ?? {});
    if (!parsed.success) return { ok: false, error: { code: 'bad-input', message: describeZodError(parsed.error, `The input of ${method}`) } };
    try {
      const handler = this.handlers[method] as (p: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data) };
    } catch (e) {
      return { ok: false, error: toServiceErrorInfo(e, `${method}`) };
    }
  }

  /** Stops the queue gracefully (a running job is left queued, to resume next time) and the engine. */
  async close(): Promise<void> {
    await this.queue.close();
  }

  // -------------------------------------------------------------------------------------------------

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const cb of this.listeners) {
      try {
        cb(event, payload);
      } catch {
        /* one broken listener (a closed socket) must not stop the others */
      }
    }
  }

  private setEngineState(state: EngineState, pid: number | null, message: string | null): void {
    this.engineState = { state, pid };
    if (state === 'crashed' || state === 'starting') this.deviceProbe = null;
    this.emit('engine.state', { state, pid, message });
  }

  private view(job: JobRecord): JobView {
    const roots = this.roots();
    return { ...job, outputUrl: job.output ? mediaUrlFor(roots, job.output) : null, previewUrl: job.preview ? mediaUrlFor(roots, job.preview) : null };
  }

  private rememberProject(p: Project): Project {
    const dir = path.dirname(p.path);
    if (!mediaUrlFor(this.roots(), p.path)) this.projectRoots.set(`project-${p.id}`.slice(0, 64), dir);
    return p;
  }

  /**
   * A default output name that neither an existing file nor a queued job already claims: two exports
   * queued within the same second would otherwise get the same timestamped name and overwrite.
   */
  private freeOutputPath(wanted: string): string {
    const taken = new Set(this.queue.list().map((j) => (j.params as { output?: string }).output));
    const ext = path.extname(wanted);
    const base = wanted.slice(0, -ext.length);
    let candidate = wanted;
    for (let i = 2; taken.has(candidate) || existsSync(candidate); i++) candidate = `${base}-${i}${ext}`;
    return candidate;
  }

  private async jobParams(project: Project, mode: 'preview' | 'export', seconds: number | null, output: string, watermark: GenerateJobParams['watermark']): Promise<GenerateJobParams> {
    if (!project.portrait) throw new ServiceError('bad-input', 'Add a portrait to the project before generating.');
    if (!project.audio) throw new ServiceError('bad-input', 'Add a speech recording to the project before generating.');
    for (const f of [project.portrait.path, project.audio.path]) {
      if (!(await stat(f).then((s) => s.isFile(), () => false))) throw new ServiceError('not-found', `${f} is missing; import it into the project again.`);
    }
    const model = await this.models.find(project.settings.model).catch(() => null);
    // No package folder: the pipeline uses its built-in demo model, but only when that was asked for.
    if (!model && !BUILT_IN_MODEL_NAMES.includes(project.settings.model)) {
      throw new ServiceError('not-found', `There is no model package named "${project.settings.model}"; import it in Settings → Models, or choose the built-in demo model.`);
    }
    return { mode, portrait: project.portrait, audio: project.audio, settings: project.settings, seconds, output, watermark, modelPath: model?.path ?? null };
  }

  /** Where imported media go: the project's media/ folder, or <data>/imports without a project. */
  private mediaDir(project: string | undefined): string {
    return project ? path.join(path.dirname(project.endsWith('.json') ? project : path.join(project, 'x')), 'media') : path.join(this.opts.dataDir, 'imports');
  }

  private async probeDevice(): Promise<DeviceProbe | null> {
    const r = this.runner as Partial<EngineJobRunner>;
    if (typeof r.call !== 'function') return null;
    this.probing ??= r
      .call<DeviceProbe>('studio.device', {})
      .then((p) => (this.deviceProbe = p))
      .catch(() => null)
      .finally(() => (this.probing = null));
    return this.probing;
  }

  private makeHandlers(): Handlers {
    const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'video';
    return {
      'app.health': async () => ({ ok: true, version: SERVICE_VERSION, engine: this.engineState.state }),

      'projects.create': async ({ name, folder }) => this.rememberProject(await this.projects.create(name, folder)),
      'projects.open': async ({ path: p }) => this.rememberProject(await this.projects.open(p)),
      'projects.save': async ({ project }) => this.rememberProject(await this.projects.save(project)),
      'projects.recent': () => this.projects.recent(),

      'media.import': async ({ path: src, project, kind }) => importMedia(src, this.mediaDir(project), kind, (abs) => mediaUrlFor(this.roots(), abs)),
      'media.upload': async ({ name, dataBase64, project }) => uploadMedia(name, dataBase64, this.mediaDir(project), (abs) => mediaUrlFor(this.roots(), abs)),
      'media.suggestCrop': async ({ path: file }) => {
        // A failed load is not cached: the next call tries again.
        this.detector ??= blazeFaceDetector().catch((e: unknown) => {
          this.detector = null;
          throw e;
        });
        return suggestCrop(file, await this.detector);
      },

      'generate.preview': async ({ project, seconds }) => {
        const output = this.freeOutputPath(path.join(this.opts.dataDir, 'previews', `${project.id}-${stamp()}.mp4`));
        await mkdir(path.dirname(output), { recursive: true });
        const params = await this.jobParams(project, 'preview', seconds, output, this.settings.get().watermark);
        const job = await this.queue.add({ kind: 'preview', title: `Preview · ${project.name}`, params, front: true });
        return { jobId: job.id };
      },
      'generate.export': async ({ project, output, watermark }) => {
        const out = output ?? this.freeOutputPath(path.join(this.settings.get().outputFolder, `${slug(project.name)}-${stamp()}.mp4`));
        if (!/\.(mp4|webm)$/i.test(out)) throw new ServiceError('bad-input', `The export file must end in .mp4 or .webm; got ${path.basename(out)}.`);
        const params = await this.jobParams(project, 'export', null, out, watermark ?? this.settings.get().watermark);
        const job = await this.queue.add({ kind: 'export', title: `Export · ${project.name}`, params });
        return { jobId: job.id };
      },

      'jobs.list': async () => this.queue.list().map((j) => this.view(j)),
      'jobs.get': async ({ id }) => this.view(this.queue.get(id)),
      'jobs.pause': async ({ id }) => this.view(await this.queue.pause(id)),
      'jobs.resume': async ({ id }) => this.view(await this.queue.resume(id)),
      'jobs.cancel': async ({ id }) => this.view(await this.queue.cancel(id)),
      'jobs.retry': async ({ id }) => this.view(await this.queue.retry(id)),
      'jobs.reorder': async ({ id, index }) => (await this.queue.reorder(id, index)).map((j) => this.view(j)),
      'jobs.remove': async ({ id }) => {
        await this.queue.remove(id);
        return { removed: id };
      },
      'jobs.openOutput': async ({ id }) => {
        const job = this.queue.get(id);
        if (job.state !== 'done' || !job.output) throw new ServiceError('conflict', `Job "${job.title}" has no output yet (it is ${job.state}).`);
        if (!(await stat(job.output).then(() => true, () => false))) throw new ServiceError('not-found', `The output file ${job.output} is gone; it may have been moved or deleted.`);
        return { path: job.output, url: mediaUrlFor(this.roots(), job.output) };
      },

      'models.list': () => this.models.list(),
      'models.import': ({ folder, name }) => this.models.import(folder, name, (p) => this.emit('models.progress', p)),
      'models.verify': ({ name }) => this.models.verify(name, (p) => this.emit('models.progress', p)),
      'models.remove': ({ name }) => this.models.remove(name),

      'settings.get': async () => this.settings.get(),
      'settings.update': async (patch) => {
        if (patch.outputFolder) await mkdir(patch.outputFolder, { recursive: true });
        const s = await this.settings.update(patch);
        this.emit('settings.changed', s);
        return s;
      },

      'device.info': async (): Promise<DeviceInfo> => {
        const gpu = await queryNvidiaGpusAsync();
        let probe = this.deviceProbe;
        let note: string | null = null;
        if (!probe) {
          if (this.queue.runningId) note = 'The engine is busy with a job; its backends are checked when it is free.';
          else {
            probe = await this.probeDevice();
            if (!probe) note = 'The engine could not be asked which backends work.';
          }
        }
        return { backends: probe?.backends ?? null, backendsNote: note, gpus: gpu.gpus, gpuNote: gpu.reason, engine: { ...this.engineState } };
      },

      'training.listRuns': async () => {
        throw new ServiceError('not-available', NOT_AVAILABLE);
      },
      'training.start': async () => {
        throw new ServiceError('not-available', NOT_AVAILABLE);
      },
    };
  }
}

/** For hosts that want the method list (help pages, the Electron preload's allowlist). */
export const METHOD_LIST: readonly MethodName[] = Object.keys(methods) as MethodName[];
