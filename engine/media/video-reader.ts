// Reading video frames through ffmpeg as a stream of raw frames (RGB24 or 8-bit grey), optionally
// scaled on the way out of the decoder. Frames are produced one at a time as the consumer asks for
// them (the pipe's backpressure pauses ffmpeg), so a long video never sits in memory. Problems come
// back as VideoReadError with a sentence a user can act on: missing file, not a video, no video
// stream, decoder failure (with ffmpeg's own last lines).
import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '../runtime/ffmpeg.js';

const execFileP = promisify(execFile);

export class VideoReadError extends Error {
  override name = 'VideoReadError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot read video ${file}: ${detail}`);
  }
}

export interface VideoInfo {
  width: number;
  height: number;
  /** Average frame rate (frames per second), 0 if the container does not say. */
  fps: number;
  durationS: number | null;
  /** From the container when it records it (MP4 does), else null. */
  frameCount: number | null;
  codec: string;
}

export type PixelFormat = 'rgb24' | 'gray';

export interface ReadOptions {
  pixelFormat?: PixelFormat;
  /** Output size; both or neither. Default: the video's own size. */
  width?: number;
  height?: number;
  /** ffmpeg scaler (default 'area', the right one for downscaling). */
  scaleFlags?: 'area' | 'bilinear' | 'bicubic' | 'lanczos' | 'neighbor';
  /** Start this many seconds in, and/or read at most this many seconds / frames. */
  startS?: number;
  maxSeconds?: number;
  maxFrames?: number;
  signal?: AbortSignal;
}

export interface VideoFrame {
  index: number;
  width: number;
  height: number;
  /** width·height·3 bytes (rgb24) or width·height bytes (gray); owned by the consumer. */
  data: Uint8Array;
}

function assertFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new VideoReadError(file, 'no such file');
  }
  if (!st.isFile()) throw new VideoReadError(file, 'not a file');
  if (st.size === 0) throw new VideoReadError(file, 'the file is empty');
}

const lastLines = (text: string, n = 3): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' / ');

function rate(r: string | undefined): number {
  const m = /^(\d+)\/(\d+)$/.exec(r ?? '');
  if (!m || Number(m[2]) === 0) return 0;
  return Number(m[1]) / Number(m[2]);
}

/** Size, rate, duration and codec of the first video stream (ffprobe). */
export async function probeVideo(file: string): Promise<VideoInfo> {
  assertFile(file);
  let stdout: string;
  try {
    ({ stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,codec_name,duration:format=duration', '-of', 'json', file], { maxBuffer: 1 << 20 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new VideoReadError(file, `not a readable video (ffprobe: ${lastLines(err.stderr ?? '') || err.message.split('\n')[0]})`);
  }
  const j = JSON.parse(stdout) as { streams?: Record<string, string | number>[]; format?: { duration?: string } };
  const s = j.streams?.[0];
  if (!s || !s.width || !s.height) throw new VideoReadError(file, 'it has no video stream');
  const dur = Number(s.duration ?? j.format?.duration);
  const nb = Number(s.nb_frames);
  return {
    width: Number(s.width),
    height: Number(s.height),
    fps: rate(String(s.avg_frame_rate)) || rate(String(s.r_frame_rate)),
    durationS: Number.isFinite(dur) ? dur : null,
    frameCount: Number.isFinite(nb) && nb > 0 ? nb : null,
    codec: String(s.codec_name ?? 'unknown'),
  };
}

/**
 * Decodes frames one by one. Breaking out of the loop (or aborting the signal) stops ffmpeg.
 * The output size must be known before reading, so without width/height the video is probed first.
 */
export async function* readFrames(file: string, opts: ReadOptions = {}): AsyncGenerator<VideoFrame> {
  assertFile(file);
  if ((opts.width === undefined) !== (opts.height === undefined)) throw new RangeError('readFrames: give both width and height, or neither');
  let width = opts.width;
  let height = opts.height;
  if (width === undefined || height === undefined) {
    const info = await probeVideo(file);
    width = info.width;
    height = info.height;
  }
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`readFrames: bad output size ${width}×${height}`);
  const fmt = opts.pixelFormat ?? 'rgb24';
  const frameBytes = width * height * (fmt === 'rgb24' ? 3 : 1);
  const args = ['-v', 'error', '-nostdin'];
  if (opts.startS) args.push('-ss', String(opts.startS));
  args.push('-i', file);
  if (opts.maxSeconds) args.push('-t', String(opts.maxSeconds));
  if (opts.maxFrames) args.push('-frames:v', String(opts.maxFrames));
  args.push('-map', '0:v:0', '-vsync', '0', '-vf', `scale=${width}:${height}:flags=${opts.scaleFlags ?? 'area'}`, '-f', 'rawvideo', '-pix_fmt', fmt, '-');

  let count = 0;
  for await (const frame of ffmpegRawFrames(args, { width, height, bytes: frameBytes }, opts.signal, {
    notStarted: (m) => new VideoReadError(file, `ffmpeg did not start (${m})`),
    cancelled: () => new VideoReadError(file, 'reading was cancelled'),
    failed: (code, stderr) => new VideoReadError(file, `ffmpeg could not decode it (exit ${code}: ${lastLines(stderr) || 'no message'})`),
  })) {
    count++;
    yield frame;
  }
  if (count === 0) throw new VideoReadError(file, 'it contains no decodable frames');
}

/** The caller's errors for the ways a raw-frame read can end badly. */
export interface RawFrameErrors {
  notStarted(message: string): Error;
  cancelled(): Error;
  /** ffmpeg exited with `code`; `stderr` is the tail of what it printed. */
  failed(code: number | null, stderr: string): Error;
}

/**
 * Runs ffmpeg with `args` (which write raw frames of `frame.bytes` bytes to stdout) and yields each
 * whole frame in its own buffer. Breaking out of the loop (or aborting the signal) stops ffmpeg.
 */
export async function* ffmpegRawFrames(args: string[], frame: { width: number; height: number; bytes: number }, signal: AbortSignal | undefined, errors: RawFrameErrors): AsyncGenerator<VideoFrame> {
  const proc = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => proc.on('error', resolve));
  const onAbort = (): void => void proc.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    let buf = new Uint8Array(frame.bytes);
    let fill = 0;
    let index = 0;
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frame.bytes - fill, chunk.length - off);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === frame.bytes) {
          yield { index: index++, width: frame.width, height: frame.height, data: buf };
          buf = new Uint8Array(frame.bytes);
          fill = 0;
        }
      }
    }
    const code = await Promise.race([exited, spawnError]);
    if (code instanceof Error) throw errors.notStarted(code.message);
    if (signal?.aborted) throw errors.cancelled();
    if (code !== 0) throw errors.failed(code, stderr);
    finished = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer stopped early (break/return/throw): stop the decoder too.
    if (!finished && proc.exitCode === null) proc.kill('SIGKILL');
  }
}
