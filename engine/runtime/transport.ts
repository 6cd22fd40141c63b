// How a host reaches the engine process. Two implementations: child_process.fork (CLI and web host,
// here) and Electron's utilityProcess (transport-electron.ts). EngineClient only sees this interface.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostMessage } from '../common/engine-protocol.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** A phrase for error messages: "was killed by signal SIGKILL", "exited with code 1". */
  reason: string;
}

export interface EngineTransport {
  readonly pid: number | undefined;
  send(msg: HostMessage): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called once, when the process is gone for whatever reason (including failure to start). */
  onExit(cb: (info: ExitInfo) => void): void;
  kill(signal?: NodeJS.Signals): void;
  /** The most telling line the process wrote to stderr/stdout (ORT and driver errors land there). */
  outputTail(): string;
}

export function exitReason(code: number | null, signal: string | null): string {
  if (signal) return `was killed by signal ${signal}`;
  if (code === 0) return 'exited';
  return `exited with code ${code}`;
}

/** Keeps the last `max` characters of a stream, for death reports; optionally echoes it. */
export class TailBuffer {
  private text = '';
  constructor(
    private readonly max = 4000,
    private readonly echo: ((s: string) => void) | null = null,
  ) {}
  push(chunk: Buffer | string): void {
    const s = chunk.toString();
    this.echo?.(s);
    this.text = (this.text + s).slice(-this.max);
  }
  /** The most telling line: the last error-looking line that is not a stack frame ('' if none; warnings are noise). */
  summary(): string {
    // eslint-disable-next-line no-control-regex
    const lines = this.text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '));
    const telling = lines.filter((l) => /error|failed|fatal|abort|\[E:/i.test(l));
    return (telling.at(-1) ?? '').slice(0, 400);
  }
}

export const ENGINE_ENTRY = fileURLToPath(new URL('./engine-process.ts', import.meta.url));

export interface ForkOptions {
  /** Engine entry module (default: engine-process.ts beside this file). */
  entry?: string;
  /** Extra job modules (paths or URLs), passed as --jobs=… */
  jobModules?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Echo the engine's stdout/stderr to this process's stderr (default: when REFREE_DEBUG is set). */
  echoOutput?: boolean;
}

/** Node flags that let a forked Node load TypeScript: `--import <tsx loader URL>`, resolved from here so cwd does not matter. */
export function tsxExecArgv(): string[] {
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

export function forkTransport(opts: ForkOptions = {}): EngineTransport {
  const entry = opts.entry ?? ENGINE_ENTRY;
  const args = (opts.jobModules ?? []).map((m) => `--jobs=${m}`);
  const echo = opts.echoOutput ?? Boolean(process.env.REFREE_DEBUG);
  const tail = new TailBuffer(4000, echo ? (s) => process.stderr.write(s) : null);
  const child = fork(entry, args, {
    execArgv: entry.endsWith('.ts') ? tsxExecArgv() : [],
    env: opts.env ?? process.env,
    // 'advanced' lets typed arrays cross as typed arrays, like Electron's structured clone.
    serialization: 'advanced',
    // stdout is piped too: an engine must never write into a `--json` answer on the host's stdout.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));
  const exitCbs: ((i: ExitInfo) => void)[] = [];
  let exited: ExitInfo | null = null;
  const finish = (info: ExitInfo): void => {
    if (exited) return;
    exited = info;
    for (const cb of exitCbs) cb(info);
  };
  // 'close' (not 'exit') so the output tail is complete when the exit is reported.
  child.on('close', (code, signal) => finish({ code, signal, reason: exitReason(code, signal) }));
  child.on('error', (e) => {
    // Spawn failures never emit 'close' with a pid; report them as an exit too.
    if (child.pid === undefined) finish({ code: null, signal: null, reason: `could not be started (${e.message})` });
  });
  return {
    get pid() {
      return child.pid;
    },
    send(msg) {
      if (!child.connected) throw new Error('the engine process is not running');
      child.send(msg);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onExit(cb) {
      if (exited) cb(exited);
      else exitCbs.push(cb);
    },
    kill(signal) {
      child.kill(signal);
    },
    outputTail: () => tail.summary(),
  };
}
