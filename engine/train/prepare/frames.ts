// Frames of a source clip resampled to the training rate by ffmpeg's fps filter (which drops or repeats
// frames to a constant rate, so frame i is at time i / fps whatever the source's rate or timing), scaled
// on the way out, as raw RGB streamed one frame at a time (the pipe's backpressure pauses ffmpeg).
// Both passes over a clip (face tracking, then cropping) use the same filter chain, so they see the
// same frames with the same indices.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CancelledError } from '../../common/engine-errors.js';
import { stderrSummary } from '../../media/ffmpeg-run.js';
import { ffmpegRawFrames } from '../../media/video-reader.js';
import { ffprobePath } from '../../runtime/ffmpeg.js';

const execFileP = promisify(execFile);

export interface RateFrame {
  index: number;
  width: number;
  height: number;
  /** width·height·3 bytes, owned by the consumer. */
  data: Uint8Array;
}

export interface RateReadOptions {
  fps: number;
  width: number;
  height: number;
  maxSeconds?: number;
  maxFrames?: number;
  signal?: AbortSignal;
}

export class FrameReadError extends Error {
  override name = 'FrameReadError';
}

/**
 * The size frames come out of the decoder at: the coded size, turned by the stream's rotation (phone
 * videos store portrait clips as landscape frames plus a 90° rotation, and ffmpeg applies it when
 * decoding). Null when ffprobe finds no video stream.
 */
export async function displaySize(file: string, signal?: AbortSignal): Promise<{ width: number; height: number } | null> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:stream_tags=rotate:stream_side_data=rotation', '-of', 'json', file], { maxBuffer: 1 << 20, ...(signal ? { signal } : {}) }));
  } catch {
    return null;
  }
  const s = (JSON.parse(stdout) as { streams?: { width?: number; height?: number; tags?: { rotate?: string }; side_data_list?: { rotation?: number }[] }[] }).streams?.[0];
  if (!s?.width || !s.height) return null;
  const rotation = Number(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? s.tags?.rotate ?? 0);
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return quarter ? { width: s.height, height: s.width } : { width: s.width, height: s.height };
}

/** Output size for a source scaled so that its longer side is at most `maxSide` (even sides, for ffmpeg). */
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(width, height));
  const even = (v: number): number => Math.max(2, 2 * Math.round((v * s) / 2));
  return { width: even(width), height: even(height) };
}

export async function* readRateFrames(file: string, o: RateReadOptions): AsyncGenerator<RateFrame> {
  const frameBytes = o.width * o.height * 3;
  const args = ['-v', 'error', '-nostdin', '-i', file];
  if (o.maxSeconds) args.push('-t', String(o.maxSeconds));
  args.push('-map', '0:v:0', '-vf', `fps=${o.fps},scale=${o.width}:${o.height}:flags=area`);
  if (o.maxFrames) args.push('-frames:v', String(o.maxFrames));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-');
  if (o.signal?.aborted) throw new CancelledError('cancelled');
  yield* ffmpegRawFrames(args, { width: o.width, height: o.height, bytes: frameBytes }, o.signal, {
    notStarted: (m) => new FrameReadError(`ffmpeg did not start (${m})`),
    cancelled: () => new CancelledError('cancelled'),
    failed: (code, stderr) => new FrameReadError(`ffmpeg could not decode its video (exit ${code}: ${stderrSummary(stderr) || 'no message'})`),
  });
}
