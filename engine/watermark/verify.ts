// `refree verify`'s engine side: read a video's container tags and run the invisible-watermark
// detector over its frames (decoded by ffmpeg straight to CANONICAL×CANONICAL grey, so a long or
// large video costs little more than its decode).
import { probeVideo, readFrames } from '../media/video-reader.js';
import type { Detection } from './detector.js';
import { WatermarkDetector } from './detector.js';
import { CANONICAL } from './layout.js';
import type { ProvenanceRead } from './metadata.js';
import { readMetadata } from './metadata.js';
import { splitPayload } from './message.js';

export interface VerifyReport {
  file: string;
  watermark: Detection & { job: string | null; model: string | null };
  metadata: ProvenanceRead;
  video: { width: number; height: number; fps: number; durationS: number | null; codec: string };
  /** Seconds spent decoding and detecting. */
  seconds: number;
}

export interface VerifyOptions {
  /** Read at most this many seconds of video (default 60: plenty of frames, bounded time). */
  maxSeconds?: number;
  signal?: AbortSignal;
}

export async function verifyVideo(file: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const t0 = performance.now();
  const info = await probeVideo(file);
  const metadata = await readMetadata(file);
  const det = new WatermarkDetector();
  for await (const f of readFrames(file, { pixelFormat: 'gray', width: CANONICAL, height: CANONICAL, scaleFlags: 'area', maxSeconds: opts.maxSeconds ?? 60, signal: opts.signal })) {
    det.addFrame(f.data, f.width, f.height);
  }
  const r = det.result();
  const halves = r.payload ? splitPayload(BigInt(`0x${r.payload}`)) : null;
  return {
    file,
    watermark: { ...r, job: halves?.job ?? null, model: halves?.model ?? null },
    metadata,
    video: { width: info.width, height: info.height, fps: info.fps, durationS: info.durationS, codec: info.codec },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The one line `refree verify` prints first. */
export const verdictLine = (r: VerifyReport): string => (r.watermark.found ? `watermark found: payload ${r.watermark.payload} (confidence ${r.watermark.confidence.toFixed(3)})` : 'no watermark found');
