// One ffprobe call that says what a media file contains (container, streams, duration). Shared by the
// audio reader (is there an audio stream? how long?) and the image reader (is this "image" a video?).
import { execFile } from 'node:child_process';
import { ffprobePath } from '../runtime/ffmpeg.js';

export interface ProbedStream {
  index: number;
  codecType: 'audio' | 'video' | 'subtitle' | 'data' | 'attachment' | string;
  codecName: string | null;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** Seconds, when the container or stream states it. */
  duration: number | null;
  /** Frames in a video stream, when stated. */
  nbFrames: number | null;
  /** A still picture attached to an audio file (album art), not a video. */
  attachedPic: boolean;
}

export interface ProbeResult {
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "wav", "png_pipe". */
  formatName: string;
  /** Seconds; null when unknown (a WAV with no samples states none). */
  duration: number | null;
  streams: ProbedStream[];
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};

/**
 * Probes `file`. Resolves to null when ffprobe cannot read it as media at all ("Invalid data found"),
 * which callers turn into "not an audio file" / "not an image".
 */
export function probeMedia(file: string, signal?: AbortSignal): Promise<ProbeResult | null> {
  return new Promise((resolve, reject) => {
    execFile(
      ffprobePath(),
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      { maxBuffer: 8 << 20, timeout: 60_000, ...(signal ? { signal } : {}) },
      (err, stdout) => {
        if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
        let j: { format?: Record<string, unknown>; streams?: Record<string, unknown>[] };
        try {
          j = JSON.parse(stdout || '{}');
        } catch {
          return resolve(null);
        }
        if (err || !j.format) return resolve(null);
        const streams = (j.streams ?? []).map((s): ProbedStream => {
          const disp = (s.disposition ?? {}) as Record<string, unknown>;
          return {
            index: num(s.index) ?? 0,
            codecType: String(s.codec_type ?? 'unknown'),
            codecName: typeof s.codec_name === 'string' ? s.codec_name : null,
            ...(num(s.width) !== null ? { width: num(s.width)! } : {}),
            ...(num(s.height) !== null ? { height: num(s.height)! } : {}),
            ...(num(s.sample_rate) !== null ? { sampleRate: num(s.sample_rate)! } : {}),
            ...(num(s.channels) !== null ? { channels: num(s.channels)! } : {}),
            duration: num(s.duration),
            nbFrames: num(s.nb_frames),
            attachedPic: disp.attached_pic === 1,
          };
        });
        resolve({ formatName: String(j.format.format_name ?? ''), duration: num(j.format.duration), streams });
      },
    );
  });
}

/** ffprobe format names of still-image demuxers (a PNG probed by ffmpeg is "png_pipe", a JPEG "image2" or "jpeg_pipe"). */
export function isImageFormat(formatName: string): boolean {
  return /(^|,)(image2|[a-z0-9]+_pipe|gif|apng|webp|tiff)(,|$)/.test(formatName);
}

/** A moving-picture stream: a video stream that is not album art, in a container that is not an image format. */
export function hasMovingVideo(p: ProbeResult): boolean {
  return !isImageFormat(p.formatName) && p.streams.some((s) => s.codecType === 'video' && !s.attachedPic && s.codecName !== 'ansi');
}
