// The speech envelope at the video's frame rate: for frame i (shown from i/fps to (i+1)/fps) the RMS of
// the 16 kHz mono samples in that span, in dB, floored `rangeDb` below the loudest frame and mapped to
// 0..1. Log compression because the mouth follows loudness roughly logarithmically (a whisper opens it
// far more than 1/100 of a shout); the floor keeps background noise in pauses from mattering.
import { loadAudio } from '../media/audio-input.js';

export interface EnvelopeOptions {
  /** Dynamic range kept below the loudest frame, dB (default 45). */
  rangeDb?: number;
  signal?: AbortSignal;
}

/** Per-frame envelope of PCM samples; frames past the end of the audio are silent (0). */
export function frameEnvelope(samples: Float32Array, sampleRate: number, fps: number, frames: number, rangeDb = 45): Float64Array {
  const db = new Float64Array(frames);
  let peak = -Infinity;
  for (let i = 0; i < frames; i++) {
    const a = Math.round((i * sampleRate) / fps);
    const b = Math.min(samples.length, Math.round(((i + 1) * sampleRate) / fps));
    let s = 0;
    for (let k = a; k < b; k++) s += samples[k]! * samples[k]!;
    db[i] = b > a ? 10 * Math.log10(s / (b - a) + 1e-12) : -Infinity;
    peak = Math.max(peak, db[i]!);
  }
  const floor = peak - rangeDb;
  const out = new Float64Array(frames);
  if (!Number.isFinite(peak)) return out;
  for (let i = 0; i < frames; i++) out[i] = Math.max(0, (db[i]! - floor) / rangeDb);
  return out;
}

/** Decodes the sound track of `file` (any container ffmpeg reads) and returns its per-frame envelope. */
export async function speechEnvelope(file: string, fps: number, frames: number, opts: EnvelopeOptions = {}): Promise<{ envelope: Float64Array; duration: number; silent: boolean }> {
  const audio = await loadAudio(file, { maxDuration: 3600, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { envelope: frameEnvelope(audio.samples, audio.sampleRate, fps, frames, opts.rangeDb), duration: audio.duration, silent: audio.silent };
}
