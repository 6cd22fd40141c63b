// Runs ffmpeg as a child process, streaming its stdout to a callback (never collected here) and keeping
// only the tail of stderr for error messages. Cancellation kills the process at once.
import { spawn } from 'node:child_process';
import { CancelledError } from '../common/engine-errors.js';
import { ffmpegPath } from '../runtime/ffmpeg.js';

export interface FfmpegRunOptions {
  signal?: AbortSignal;
  /** Each stdout chunk as it arrives. Return false to stop ffmpeg (it is killed; the run resolves). */
  onStdout?: (chunk: Buffer) => boolean | void;
  /** Bytes of stderr kept (the end of it), default 64 KiB. */
  stderrTail?: number;
}

export interface FfmpegRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when onStdout asked to stop. */
  stopped: boolean;
  stderr: string;
}

/** Keeps the last `limit` bytes of a stream of chunks. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit = 64 * 1024) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** The last few meaningful lines of ffmpeg's stderr, for an error message. */
export function stderrSummary(stderr: string, lines = 3): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}

export function runFfmpeg(args: string[], opts: FfmpegRunOptions = {}): Promise<FfmpegRunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError('cancelled before ffmpeg started'));
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new TailBuffer(opts.stderrTail);
    let stopped = false;
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.on('data', (b: Buffer) => tail.push(b));
    child.stdout.on('data', (b: Buffer) => {
      if (stopped) return;
      if (opts.onStdout?.(b) === false) {
        stopped = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (cancelled) return reject(new CancelledError('cancelled'));
      resolve({ code, signal, stopped, stderr: tail.toString() });
    });
  });
}
