// The queue's engine runner for the desktop app: the same EngineJobRunner, but the engine starts in an
// Electron utilityProcess (DESIGN 8) through engine/runtime/transport-electron.ts instead of
// child_process.fork (which the runAsNode fuse disables in a packaged app). Only how the engine is
// started differs; running, progress, cancel and crash recovery are the base class's.
import { EngineJobRunner } from '../engine/jobs/engine-runner.js';
import type { EngineRunnerOptions, EngineRunnerState } from '../engine/jobs/engine-runner.js';
import { EngineClient } from '../engine/runtime/engine-client.js';
import type { UtilityProcessModuleLike } from '../engine/runtime/transport-electron.js';
import { utilityProcessTransport } from '../engine/runtime/transport-electron.js';

export interface UtilityRunnerOptions extends Omit<EngineRunnerOptions, 'fork'> {
  utilityProcess: UtilityProcessModuleLike;
  /** The engine entry, built to JavaScript (out/electron/engine-process.js). */
  entry: string;
  execArgv?: string[];
  /** The engine's environment (the studio points its temp folder at one it cleans). */
  env?: NodeJS.ProcessEnv;
}

export class UtilityEngineRunner extends EngineJobRunner {
  private up: EngineClient | null = null;
  private upStarting: Promise<EngineClient> | null = null;
  private closed = false;

  constructor(private readonly uopts: UtilityRunnerOptions) {
    super(uopts);
  }

  override get pid(): number | null {
    return this.up?.running ? (this.up.pid ?? null) : null;
  }

  override get state(): EngineRunnerState {
    if (this.upStarting) return 'starting';
    if (!this.up) return 'stopped';
    return this.up.running ? 'ready' : 'crashed';
  }

  override engine(): Promise<EngineClient> {
    if (this.closed) return Promise.reject(Object.assign(new Error('the studio is shutting down'), { name: 'EngineDiedError' }));
    if (this.up?.running) return Promise.resolve(this.up);
    if (!this.upStarting) {
      this.uopts.onState?.('starting', null, this.up ? 'restarting the engine after it stopped' : null);
      const transport = utilityProcessTransport(this.uopts.utilityProcess, {
        entry: this.uopts.entry,
        jobModules: this.uopts.jobModules ?? [],
        ...(this.uopts.execArgv ? { execArgv: this.uopts.execArgv } : {}),
        ...(this.uopts.env ? { env: this.uopts.env } : {}),
      });
      this.upStarting = EngineClient.start(transport)
        .then((c) => {
          this.up = c;
          this.uopts.onState?.('ready', c.pid ?? null, null);
          return c;
        })
        .finally(() => {
          this.upStarting = null;
        });
    }
    return this.upStarting;
  }

  override async dispose(): Promise<void> {
    this.closed = true;
    const c = this.up ?? (await this.upStarting?.catch(() => null)) ?? null;
    if (c?.running) await c.close(2000);
    this.uopts.onState?.('stopped', null, null);
  }
}
