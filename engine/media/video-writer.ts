// Writes the generated video: RGB frames are streamed into ffmpeg's stdin as rawvideo (one frame at a
// time, waiting for the pipe to drain), encoded to H.264 yuv420p + AAC in MP4 (or VP9 + Opus in WebM),
// so the whole video is never in memory (DESIGN 6). The speech is the trimmed 16 kHz PCM (written to a
// temporary raw file for ffmpeg) or a range of the original audio file (better quality: ffmpeg trims it).
//
// Safety of the output file:
//   - the folder is checked before any work starts (exists, is a folder, writable, not full), by really
//     creating the partial file;
//   - ffmpeg writes `<name>.partial.<ext>`, renamed to `<name>.<ext>` only when ffmpeg succeeded, so a
//     half-written video never carries the final name;
//   - on an error, a cancel (AbortSignal) or abort(), ffmpeg is killed and the partial file removed;
//   - a full disk is reported as "the disk is full while writing <path>: free N MB and retry".
// `extraArgs` are output options placed just before the output path (the metadata writer uses it for
// `-metadata key=value`).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, open, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../common/engine-errors.js';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import { MediaError } from './errors.js';
import { TailBuffer, stderrSummary } from './ffmpeg-run.js';

export type VideoContainer = 'mp4' | 'webm';
export type X264Preset = 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow' | 'slower' | 'veryslow';

export type AudioSource =
  /** Mono or interleaved PCM, e.g. the trimmed speech from loadAudio(). */
  | { kind: 'pcm'; samples: Float32Array; sampleRate: number; channels?: number }
  /** A range of an audio (or video) file, trimmed by ffmpeg: keeps the original quality. */
  | { kind: 'file'; path: string; start?: number; end?: number };

export interface VideoWriterOptions {
  /** Final path, e.g. /videos/talk.mp4. The container follows the extension (.webm → WebM) unless `container` says. */
  output: string;
  width: number;
  height: number;
  /** Frames per second (default 15, as in the paper). */
  fps?: number;
  audio?: AudioSource;
  container?: VideoContainer;
  /** Quality: lower is better and larger (default 20 for H.264, 32 for VP9). */
  crf?: number;
  /** Encoder speed (default 'medium'); for VP9 it maps to -cpu-used. */
  preset?: X264Preset;
  /** Audio bit rate (default 128k AAC, 96k Opus). */
  audioBitrate?: string;
  /** Output options inserted before the output path, e.g. ['-metadata', 'comment=...']. */
  extraArgs?: string[];
  /** Frames the caller means to write: lets a disk-full message estimate the space needed. */
  expectedFrames?: number;
  signal?: AbortSignal;
  /** Where the temporary speech file goes (default the system temp folder). */
  tmpDir?: string;
}

export interface VideoWriteResult {
  path: string;
  frames: number;
  /** Video stream duration, frames / fps. */
  duration: number;
  bytes: number;
}

const MB = 1024 * 1024;
/** Below this much free space the output folder counts as full before we start. */
const MIN_FREE_BYTES = 64 * 1024;

/** `a/b/talk.mp4` → `a/b/talk.partial.mp4`. */
export function partialPath(output: string): string {
  const ext = path.extname(output);
  return output.slice(0, output.length - ext.length) + '.partial' + ext;
}

function diskFull(output: string, needBytes: number): MediaError {
  const n = Math.max(1, Math.ceil(needBytes / MB));
  return new MediaError('disk-full', `the disk is full while writing ${output}: free ${n} MB and retry`, output);
}

async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Checks that `output` can be written, before any frame is generated: its folder exists and is a folder,
 * the partial file can be created there, and the disk is not already full. Leaves an empty partial file.
 */
export async function preflightOutput(output: string): Promise<void> {
  const abs = path.resolve(output);
  const dir = path.dirname(abs);
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new MediaError('output-unwritable', `cannot write ${output}: part of ${dir} is a file, not a folder`, output);
    throw new MediaError('output-unwritable', `cannot write ${output}: the folder ${dir} does not exist; create it or choose another place`, output);
  }
  if (!st.isDirectory()) throw new MediaError('output-unwritable', `cannot write ${output}: ${dir} is not a folder`, output);
  try {
    if ((await stat(abs)).isDirectory()) throw new MediaError('output-unwritable', `cannot write ${output}: a folder of that name exists`, output);
  } catch (e) {
    if (e instanceof MediaError) throw e;
  }
  // Writability first: a read-only disk reports no free space, and "disk full" would send the person
  // looking for space to free instead of another folder.
  try {
    const fh = await open(partialPath(abs), 'w');
    await fh.close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw diskFull(output, MIN_FREE_BYTES * 16);
    const why = code === 'EROFS' ? 'the disk is read-only' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (e as Error).message);
    throw new MediaError('output-unwritable', `cannot write ${output}: ${dir} is not writable (${why}); choose another folder`, output);
  }
  const free = await freeBytes(dir);
  if (free !== null && free < MIN_FREE_BYTES) {
    await rm(partialPath(abs), { force: true });
    throw diskFull(output, MIN_FREE_BYTES * 16);
  }
}

const VP9_SPEED: Record<X264Preset, number> = { ultrafast: 8, superfast: 7, veryfast: 6, faster: 5, fast: 4, medium: 3, slow: 2, slower: 1, veryslow: 0 };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class VideoWriter {
  private frames = 0;
  private drainWaits = 0;
  private maxBuffered = 0;
  private failure: Error | null = null;
  private failing: Promise<Error> | null = null;
  private stopping: Promise<void> | null = null;
  private spawnError: Error | null = null;
  private finished = false;
  private readonly frameBytes: number;
  private readonly exit: Promise<Exit>;
  private readonly onAbort = (): void => void this.abort();

  private constructor(
    private readonly opts: Required<Pick<VideoWriterOptions, 'output' | 'width' | 'height' | 'fps'>> & VideoWriterOptions,
    private readonly partial: string,
    private readonly tmp: string | null,
    private readonly child: ChildProcessByStdio<Writable, null, Readable>,
    private readonly stderr: TailBuffer,
  ) {
    this.frameBytes = opts.width * opts.height * 3;
    this.exit = new Promise((resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal }));
      child.on('error', (e) => {
        this.spawnError = e;
        resolve({ code: null, signal: null });
      });
    });
    // ffmpeg dying while frames are still coming: report it at the next writeFrame, not only at finish.
    void this.exit.then((e) => {
      if (!this.finished && !this.failure && e.code !== 0) void this.fail();
    });
    // EPIPE when ffmpeg dies early: the exit status tells the story; this only keeps Node from throwing.
    child.stdin.on('error', () => {});
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Checks the output folder, then starts ffmpeg. Throws MediaError before any work when the output cannot be written. */
  static async open(options: VideoWriterOptions): Promise<VideoWriter> {
    const opts = { ...options, fps: options.fps ?? 15 };
    const { width, height, fps } = opts;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width % 2 || height % 2) {
      throw new MediaError('bad-frame', `video size ${width}×${height}: width and height must be even whole numbers ≥ 2 (yuv420p halves them)`, opts.output);
    }
    if (!(fps > 0)) throw new MediaError('bad-frame', `fps must be positive (got ${fps})`, opts.output);
    if (opts.signal?.aborted) throw new CancelledError('cancelled before the video was started');
    const bin = ffmpegPath(); // throws with what to do when there is no ffmpeg, before any file is created
    const container: VideoContainer = opts.container ?? (path.extname(opts.output).toLowerCase() === '.webm' ? 'webm' : 'mp4');
    await preflightOutput(opts.output);
    const partial = partialPath(path.resolve(opts.output));

    let tmp: string | null = null;
    const audioIn: string[] = [];
    try {
      if (opts.audio?.kind === 'pcm') {
        tmp = await mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'refree-speech-'));
        const raw = path.join(tmp, 'speech.f32');
        const s = opts.audio.samples;
        await writeFile(raw, new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
        audioIn.push('-f', 'f32le', '-ar', String(opts.audio.sampleRate), '-ac', String(opts.audio.channels ?? 1), '-i', raw);
      } else if (opts.audio?.kind === 'file') {
        const { start, end } = opts.audio;
        if (start !== undefined && start > 0) audioIn.push('-ss', String(start));
        if (end !== undefined) audioIn.push('-t', String(end - (start ?? 0)));
        audioIn.push('-i', opts.audio.path);
      }
    } catch (e) {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      await rm(partial, { force: true });
      throw e;
    }

    const video =
      container === 'mp4'
        ? ['-c:v', 'libx264', '-preset', opts.preset ?? 'medium', '-crf', String(opts.crf ?? 20)]
        : ['-c:v', 'libvpx-vp9', '-crf', String(opts.crf ?? 32), '-b:v', '0', '-deadline', 'good', '-cpu-used', String(VP9_SPEED[opts.preset ?? 'medium']), '-row-mt', '1'];
    const audio = !opts.audio ? [] : container === 'mp4' ? ['-c:a', 'aac', '-b:a', opts.audioBitrate ?? '128k', '-ar', '48000'] : ['-c:a', 'libopus', '-b:a', opts.audioBitrate ?? '96k', '-ar', '48000'];
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'rawvideo',
      '-pixel_format',
      'rgb24',
      '-video_size',
      `${width}x${height}`,
      '-framerate',
      String(fps),
      '-i',
      'pipe:0',
      ...audioIn,
      '-map',
      '0:v:0',
      ...(opts.audio ? ['-map', '1:a:0'] : []),
      // RGB → BT.709 limited-range YUV 4:2:0, tagged as such so players convert back the same way.
      '-vf',
      'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
      '-colorspace',
      'bt709',
      '-color_primaries',
      'bt709',
      '-color_trc',
      'bt709',
      '-color_range',
      'tv',
      ...video,
      ...audio,
      ...(container === 'mp4' ? ['-movflags', '+faststart'] : []),
      ...(opts.extraArgs ?? []),
      '-f',
      container,
      '-y',
      partial,
    ];
    const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr = new TailBuffer();
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    return new VideoWriter(opts, partial, tmp, child, stderr);
  }

  /** Frames queued so far, how often writeFrame waited for the pipe, and the most bytes ever queued in Node. */
  get stats(): { framesWritten: number; drainWaits: number; maxBufferedBytes: number } {
    return { framesWritten: this.frames, drainWaits: this.drainWaits, maxBufferedBytes: this.maxBuffered };
  }

  /**
   * Queues one width×height×3 RGB frame. The frame is copied, so the caller may reuse its buffer at once;
   * when ffmpeg's pipe is full this waits until it drains, so at most about one frame is buffered here.
   */
  async writeFrame(rgb: Uint8Array): Promise<void> {
    if (this.failure) throw await this.settled();
    if (this.failing) throw await this.failing;
    if (this.finished) throw new Error('VideoWriter: writeFrame after finish');
    if (rgb.length !== this.frameBytes) {
      throw new MediaError('bad-frame', `frame ${this.frames} has ${rgb.length} bytes; a ${this.opts.width}×${this.opts.height} RGB frame has ${this.frameBytes}`, this.opts.output);
    }
    const ok = this.child.stdin.write(Buffer.from(rgb));
    this.frames++;
    this.maxBuffered = Math.max(this.maxBuffered, this.child.stdin.writableLength);
    if (!ok) {
      this.drainWaits++;
      const drained = new Promise<'drain'>((resolve) => this.child.stdin.once('drain', () => resolve('drain')));
      const r = await Promise.race([drained, this.exit.then(() => 'exit' as const)]);
      if (r === 'exit') throw await this.fail();
    }
    if (this.failure) throw await this.settled();
  }

  /** Ends the stream, waits for ffmpeg, and gives the file its final name. */
  async finish(): Promise<VideoWriteResult> {
    if (this.failure) throw await this.settled();
    if (this.frames === 0) {
      await this.abort(new MediaError('bad-frame', `no frames were written to ${this.opts.output}`, this.opts.output));
      throw this.failure!;
    }
    this.finished = true;
    this.child.stdin.end();
    const exit = await this.exit;
    if (this.failure) throw await this.settled();
    if (exit.code !== 0) throw await this.fail();
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    try {
      await rename(this.partial, path.resolve(this.opts.output));
    } catch (e) {
      await this.cleanup();
      throw new MediaError('output-unwritable', `cannot move the finished video to ${this.opts.output}: ${(e as Error).message}`, this.opts.output);
    }
    await this.removeTmp();
    const bytes = (await stat(this.opts.output)).size;
    return { path: this.opts.output, frames: this.frames, duration: this.frames / this.opts.fps, bytes };
  }

  /** Stops: kills ffmpeg and removes the partial file. Pending and later calls reject with `reason` (default: cancelled). */
  abort(reason?: Error): Promise<void> {
    this.failure ??= reason ?? new CancelledError(`writing ${this.opts.output} was cancelled`);
    this.stopping ??= (async () => {
      this.child.kill('SIGKILL');
      await this.exit;
      await this.cleanup();
    })();
    return this.stopping;
  }

  /** The recorded failure, once ffmpeg is gone and the partial file removed (so callers see a clean state). */
  private async settled(): Promise<Error> {
    if (this.stopping) await this.stopping;
    if (this.failing) await this.failing;
    return this.failure!;
  }

  /** After ffmpeg exited with an error: the error to report (disk full or ffmpeg's own words), cleaned up. */
  private fail(): Promise<Error> {
    if (this.failure) return Promise.resolve(this.failure);
    this.failing ??= this.explainFailure();
    return this.failing;
  }

  private async explainFailure(): Promise<Error> {
    const text = this.stderr.toString();
    let written = 0;
    try {
      written = (await stat(this.partial)).size;
    } catch {
      /* already gone */
    }
    await this.cleanup();
    if (/No space left on device|ENOSPC/i.test(text)) {
      // Estimate the whole file from what was written, then subtract what is free now (partial removed).
      const total = this.opts.expectedFrames && this.frames > 0 ? (written * this.opts.expectedFrames) / this.frames : written * 2;
      const free = (await freeBytes(path.dirname(this.partial))) ?? 0;
      this.failure ??= diskFull(this.opts.output, Math.max(MB, total * 1.1 - free));
    } else {
      const why = this.spawnError ? `it could not be started (${this.spawnError.message})` : stderrSummary(text) || 'it exited with no message';
      this.failure ??= new MediaError('ffmpeg-failed', `ffmpeg failed while writing ${this.opts.output}: ${why}`, this.opts.output);
    }
    return this.failure;
  }

  private async cleanup(): Promise<void> {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    await rm(this.partial, { force: true });
    await this.removeTmp();
  }

  private async removeTmp(): Promise<void> {
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}
