// The studio service: one implementation of the contract (contract.ts) that both hosts expose — the
// web host over HTTP + WebSocket, Electron over IPC. `dispatch` is the boundary: it validates every
// input with the method's schema and turns every failure into `{code, message}`. The handlers live
// by domain in handlers/*.ts and see the service through ServiceContext (context.ts); the heavy work
// runs in the engine process through the job queue (engine/jobs).
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineJobRunner } from '../jobs/engine-runner.js';
import type { JobRecord } from '../jobs/job-types.js';
import { JobQueue } from '../jobs/queue.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DeviceProbe } from '../jobs/studio-jobs.js';
import type { EngineState, EventName, Events, Handlers, JobView, MediaInfo, MethodName, Project } from './contract.js';
import { isMethodName, methods } from './contract.js';
import type { ServiceContext } from './context.js';
import type { ErrorInfo } from './errors.js';
import { describeZodError, toServiceErrorInfo } from './errors.js';
import { appHandlers } from './handlers/app.js';
import { farmHandlers } from './handlers/farm.js';
import { generateHandlers } from './handlers/generate.js';
import { jobHandlers } from './handlers/jobs.js';
import { mediaDir, mediaHandlers } from './handlers/media.js';
import { modelHandlers } from './handlers/models.js';
import { projectHandlers } from './handlers/projects.js';
import { settingsHandlers } from './handlers/settings.js';
import { trainingHandlers } from './handlers/training.js';
import type { Roots } from './media-roots.js';
import { mediaUrlFor } from './media-roots.js';
import { checkUploadName, importUploadedFile } from './media-upload.js';
import { ModelStore } from './models.js';
import { ProjectStore } from './projects.js';
import { SettingsStore } from './settings-store.js';

export { SERVICE_VERSION } from './handlers/app.js';
export { BUILT_IN_MODEL_NAMES } from './handlers/generate.js';

export const STUDIO_JOBS_MODULE = fileURLToPath(new URL('../jobs/studio-jobs.ts', import.meta.url));

// The engine's temporary files (speech tracks being muxed, ...) go to a folder of its own, emptied each
// time an engine starts: what a killed engine left behind is gone before the next one runs. Hosts that
// start the engine themselves (Electron) use the same three helpers.
export function engineTempDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'tmp', 'engine');
}
/** Call when a new engine is about to start (never while one runs: it would lose its files). */
export function cleanEngineTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
export function engineEnv(tmp: string): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
}

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

/** What each method does, in words, for the rare error that is not already a sentence. */
const DOING: Partial<Record<MethodName, string>> = {
  'projects.create': 'Creating the project',
  'projects.open': 'Opening the project',
  'projects.save': 'Saving the project',
  'projects.rename': 'Renaming the project',
  'projects.duplicate': 'Duplicating the project',
  'projects.delete': 'Moving the project to the trash',
  'media.import': 'Importing the file',
  'media.upload': 'Storing the upload',
  'media.verify': 'Checking the watermark',
  'media.suggestCrop': 'Finding the face',
  'generate.preview': 'Queuing the preview',
  'generate.export': 'Queuing the export',
  'models.import': 'Importing the model',
  'models.verify': 'Verifying the model',
  'settings.update': 'Saving the settings',
};

export class StudioService {
  readonly handlers: Handlers;
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly projectRoots = new Map<string, string>();
  private engine: { state: EngineState; pid: number | null } = { state: 'stopped', pid: null };
  private probe: DeviceProbe | null = null;
  private probing: Promise<DeviceProbe | null> | null = null;
  private readonly ctx: ServiceContext;

  private constructor(
    private readonly opts: StudioServiceOptions & { dataDir: string; assetsDir: string | null },
    readonly queue: JobQueue,
    readonly runner: JobRunner,
    settings: SettingsStore,
    projects: ProjectStore,
    models: ModelStore,
  ) {
    this.ctx = {
      dataDir: opts.dataDir,
      assetsDir: opts.assetsDir,
      queue,
      runner,
      settings,
      projects,
      models,
      roots: () => this.roots(),
      urlFor: (abs) => mediaUrlFor(this.roots(), abs),
      emit: (event, payload) => this.emit(event, payload),
      view: (job) => this.view(job),
      rememberProject: (p) => this.rememberProject(p),
      engineState: () => ({ ...this.engine }),
      deviceProbe: () => this.probe,
      probeDevice: () => this.probeDevice(),
    };
    // Each domain contributes its methods; the annotation checks that together they are exactly the contract.
    const all: Handlers = {
      ...appHandlers(this.ctx),
      ...projectHandlers(this.ctx),
      ...mediaHandlers(this.ctx),
      ...generateHandlers(this.ctx),
      ...jobHandlers(this.ctx),
      ...modelHandlers(this.ctx),
      ...settingsHandlers(this.ctx),
      ...trainingHandlers(this.ctx),
      ...farmHandlers(this.ctx),
    };
    this.handlers = all;
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
    await mkdir(settings.get().outputFolder, { recursive: true }).catch(() => undefined);
    // The runner reports engine states to the service, which exists only after the runner: late-bind.
    let svc: StudioService | null = null;
    const engineTmp = engineTempDir(dataDir);
    const runner =
      opts.runner ??
      new EngineJobRunner({
        engineJob: (kind) => (kind === 'training' ? 'studio.train' : 'studio.generate'),
        jobModules: [STUDIO_JOBS_MODULE],
        fork: { env: engineEnv(engineTmp) },
        extraParams: () => {
          const b = settings.get().backend;
          return b === 'auto' ? {} : { backend: b };
        },
        onState: (state, pid, message) => {
          // Called before the new engine is forked: nothing is using the folder.
          if (state === 'starting') cleanEngineTemp(engineTmp);
          svc?.reportEngineState(state, pid, message);
        },
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
      ['output', this.ctx.settings.get().outputFolder],
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
      return { ok: false, error: toServiceErrorInfo(e, DOING[method] ?? method) };
    }
  }

  /**
   * For hosts that receive file bytes themselves (the web host's streamed upload): imports the
   * temporary file `tmp` under the upload's `name` into the (known) project, with media.import's checks.
   * The caller owns and removes `tmp`.
   */
  async importUpload(tmp: string, name: string, kind: 'image' | 'audio', project: string | undefined): Promise<DispatchResult> {
    try {
      const clean = checkUploadName(name, kind);
      const value: MediaInfo = await importUploadedFile(tmp, clean, kind, await mediaDir(this.ctx, project), (abs) => mediaUrlFor(this.roots(), abs));
      return { ok: true, value };
    } catch (e) {
      return { ok: false, error: toServiceErrorInfo(e, 'Importing the upload') };
    }
  }

  /** Where a host may put upload bytes while they arrive (inside the data folder, removed after). */
  get uploadDir(): string {
    return path.join(this.opts.dataDir, 'uploads');
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

  /** Engine state changes, from the default runner or a host's own (Electron's utility-process runner). */
  reportEngineState(state: EngineState, pid: number | null, message: string | null): void {
    this.engine = { state, pid };
    if (state === 'crashed' || state === 'starting') this.probe = null;
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

  private async probeDevice(): Promise<DeviceProbe | null> {
    const r = this.runner as Partial<EngineJobRunner>;
    if (typeof r.call !== 'function') return null;
    this.probing ??= r
      .call<DeviceProbe>('studio.device', {})
      .then((p) => (this.probe = p))
      .catch(() => null)
      .finally(() => (this.probing = null));
    return this.probing;
  }
}

/** For hosts that want the method list (help pages). */
export const METHOD_LIST: readonly MethodName[] = Object.keys(methods) as MethodName[];
