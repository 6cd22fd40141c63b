// The engine transport over Electron's utilityProcess (DESIGN 8: never worker_threads with native
// modules under Electron). Written against the few members it uses, so the engine has no Electron
// import: the desktop main process passes `utilityProcess` from 'electron' in.
import type { HostMessage } from '../common/engine-protocol.js';
import type { EngineTransport, ExitInfo } from './transport.js';
import { TailBuffer, exitReason } from './transport.js';

interface ReadableLike {
  on(event: 'data', cb: (chunk: Buffer | string) => void): unknown;
}

/** The subset of Electron's UtilityProcess used here. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  readonly stdout: ReadableLike | null;
  readonly stderr: ReadableLike | null;
  postMessage(message: unknown): void;
  on(event: 'message', cb: (message: unknown) => void): unknown;
  on(event: 'exit', cb: (code: number) => void): unknown;
  on(event: 'error', cb: (type: 'FatalError', location: string, report: string) => void): unknown;
  kill(): boolean;
}

/** The subset of Electron's `utilityProcess` module used here. */
export interface UtilityProcessModuleLike {
  fork(modulePath: string, args?: string[], options?: { serviceName?: string; stdio?: 'pipe' | 'ignore' | 'inherit' | ('pipe' | 'ignore' | 'inherit')[]; execArgv?: string[]; env?: NodeJS.ProcessEnv }): UtilityProcessLike;
}

export interface UtilityTransportOptions {
  /** The engine entry, built to JavaScript (utilityProcess cannot use tsx's loader in a packaged app). */
  entry: string;
  jobModules?: readonly string[];
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export function utilityProcessTransport(up: UtilityProcessModuleLike, opts: UtilityTransportOptions): EngineTransport {
  const tail = new TailBuffer(4000);
  const child = up.fork(opts.entry, (opts.jobModules ?? []).map((m) => `--jobs=${m}`), {
    serviceName: 'ReFree engine',
    stdio: 'pipe',
    ...(opts.execArgv ? { execArgv: opts.execArgv } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  child.stdout?.on('data', (c) => tail.push(c));
  child.stderr?.on('data', (c) => tail.push(c));
  const exitCbs: ((i: ExitInfo) => void)[] = [];
  let exited: ExitInfo | null = null;
  let killedWith: string | null = null;
  let fatal: string | null = null;
  child.on('error', (type, location) => {
    fatal = `${type} at ${location}`;
  });
  child.on('exit', (code) => {
    // utilityProcess reports only a code; remember a signal we sent ourselves so the message can say it.
    const reason = exitReason(killedWith ? null : code, killedWith);
    exited = { code, signal: killedWith, reason: fatal ? `${reason} (${fatal})` : reason };
    for (const cb of exitCbs) cb(exited);
  });
  return {
    get pid() {
      return child.pid;
    },
    send(msg: HostMessage) {
      if (exited) throw new Error('the engine process is not running');
      child.postMessage(msg);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onExit(cb) {
      if (exited) cb(exited);
      else exitCbs.push(cb);
    },
    kill(signal) {
      killedWith = signal ?? 'SIGTERM';
      child.kill();
    },
    outputTail: () => tail.summary(),
  };
}
