// What the domain handler files (handlers/*.ts) may use of the service: its stores, the queue, the
// media roots and the event emitter. One interface, so each domain file stays small and testable and
// service.ts is only the boundary (validation, errors) plus wiring.
import type { JobRecord } from '../jobs/job-types.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DeviceProbe } from '../jobs/studio-jobs.js';
import type { EngineState, EventName, Events, JobView, Project } from './contract.js';
import type { Roots } from './media-roots.js';
import type { ModelStore } from './models.js';
import type { ProjectStore } from './projects.js';
import type { SettingsStore } from './settings-store.js';

export interface ServiceContext {
  readonly dataDir: string;
  readonly assetsDir: string | null;
  readonly queue: JobQueue;
  readonly runner: JobRunner;
  readonly settings: SettingsStore;
  readonly projects: ProjectStore;
  readonly models: ModelStore;
  roots(): Roots;
  urlFor(abs: string): string | null;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  view(job: JobRecord): JobView;
  /** Makes the project's folder an allowed media root (when it lies outside the data folder). */
  rememberProject(p: Project): Project;
  engineState(): { state: EngineState; pid: number | null };
  deviceProbe(): DeviceProbe | null;
  probeDevice(): Promise<DeviceProbe | null>;
}
