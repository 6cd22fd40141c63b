// Reads the speech: any audio ffmpeg reads (any rate and channel count, also the sound track of a video),
// trimmed to [start, end) seconds, as 16 kHz mono Float32 — the rate the speech encoders expect
// (DESIGN 6). ffmpeg does the decoding, seeking, down-mixing and resampling; its PCM output is streamed
// into one growing Float32 buffer, so memory is the decoded PCM (3.8 MB per minute) and nothing else.
//
// Checks, each with a message that names the file and the limit:
//   - not media / no audio stream / a video without sound → refused before decoding;
//   - start/end: 0 ≤ start < end ≤ duration;
//   - longer than `maxDuration` (default 10 min) → refused before decoding when the length is known,
//     and while decoding otherwise (the decode stops at the limit);
//   - zero samples → refused; silent (RMS below `silenceDb`, default −50 dBFS) → `silent: true` + warning.
// Optional loudness normalisation is EBU R128 with ffmpeg's loudnorm in two passes (measure, then a
// linear gain to the target, −23 LUFS by default), so speech dynamics are kept. Silent audio is not
// normalised: that would only raise the noise floor.
import { stat } from 'node:fs/promises';
import { MediaError, fmtSeconds } from './errors.js';
import { runFfmpeg, stderrSummary } from './ffmpeg-run.js';
import { hasMovingVideo, probeMedia } from './probe.js';

export const SPEECH_SAMPLE_RATE = 16_000;
export const DEFAULT_MAX_AUDIO_SECONDS = 600;
export const DEFAULT_SILENCE_DB = -50;

export interface LoudnessTarget {
  /** Integrated loudness target, LUFS (default −23, EBU R128). */
  targetLufs?: number;
  /** Maximum true peak, dBTP (default −1.5). */
  truePeak?: number;
}

export interface AudioInputOptions {
  /** Seconds into the file where the speech starts (default 0). */
  start?: number;
  /** Seconds into the file where it ends (default: the end of the file). */
  end?: number;
  /** EBU R128 loudness normalisation (default off); `true` means −23 LUFS. */
  normalize?: boolean | LoudnessTarget;
  /** Longest speech accepted, seconds (default 600). */
  maxDuration?: number;
  /** Below this level the audio counts as silent, dB (RMS dBFS, or LUFS when normalising). Default −50. */
  silenceDb?: number;
  signal?: AbortSignal;
}

export interface DecodedAudio {
  file: string;
  /** Mono PCM at `sampleRate`, nominally in [−1, 1]. */
  samples: Float32Array;
  sampleRate: number;
  /** samples.length / sampleRate. */
  duration: number;
  /** The range used, in seconds of the source. */
  start: number;
  end: number;
  /** The whole file's audio duration as the container states it (null if it states none). */
  sourceDuration: number | null;
  /** RMS level of the returned samples, dBFS (−Infinity for digital silence). */
  rmsDb: number;
  silent: boolean;
  /** Set when normalisation ran (or was skipped because the audio is silent). */
  loudness?: { inputLufs: number; targetLufs: number; applied: boolean };
  warnings: string[];
}

interface LoudnormStats {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

const lufs = (s: string): number => (/^-?inf/i.test(s.trim()) ? -Infinity : Number(s));

/** The JSON block loudnorm prints (print_format=json) at the end of stderr. */
function parseLoudnorm(stderr: string): LoudnormStats | null {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    return JSON.parse(stderr.slice(start, end + 1)) as LoudnormStats;
  } catch {
    return null;
  }
}

export function rmsDb(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? 10 * Math.log10(s / x.length) : -Infinity;
}

async function checkFile(file: string): Promise<void> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new MediaError('not-audio', `${file} is a folder, not an audio file`, file);
    if (st.size === 0) throw new MediaError('not-audio', `${file} is empty (0 bytes), not an audio file`, file);
  } catch (e) {
    if (e instanceof MediaError) throw e;
    throw new MediaError('not-found', `${file} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
}

/** Start/end checked against each other and the duration; returns the range to decode. */
function checkRange(file: string, duration: number | null, opts: AudioInputOptions): { start: number; end: number | null } {
  const start = opts.start ?? 0;
  const end = opts.end ?? null;
  if (!Number.isFinite(start) || start < 0) throw new MediaError('bad-range', `start must be a number of seconds ≥ 0 (got ${opts.start})`, file);
  if (end !== null && !Number.isFinite(end)) throw new MediaError('bad-range', `end must be a number of seconds (got ${opts.end})`, file);
  if (end !== null && end <= start) throw new MediaError('bad-range', `start (${fmtSeconds(start)}) must be before end (${fmtSeconds(end)})`, file);
  if (duration !== null) {
    if (start >= duration) throw new MediaError('bad-range', `start (${fmtSeconds(start)}) is at or past the end of ${file}, which is ${fmtSeconds(duration)} long`, file);
    // Containers state durations to the millisecond or so; a few ms past it is the same end.
    if (end !== null && end > duration + 0.01) throw new MediaError('bad-range', `end (${fmtSeconds(end)}) is past the end of ${file}, which is ${fmtSeconds(duration)} long`, file);
  }
  return { start, end: end !== null && duration !== null ? Math.min(end, duration) : end };
}

export async function loadAudio(file: string, opts: AudioInputOptions = {}): Promise<DecodedAudio> {
  const maxDuration = opts.maxDuration ?? DEFAULT_MAX_AUDIO_SECONDS;
  const silenceDb = opts.silenceDb ?? DEFAULT_SILENCE_DB;
  const sr = SPEECH_SAMPLE_RATE;
  await checkFile(file);

  const probe = await probeMedia(file, opts.signal);
  if (!probe) throw new MediaError('not-audio', `${file} is not an audio file ffmpeg can read`, file);
  const stream = probe.streams.find((s) => s.codecType === 'audio');
  if (!stream) {
    if (hasMovingVideo(probe)) throw new MediaError('no-audio-track', `${file} is a video without a sound track; give a file with the speech`, file);
    throw new MediaError('not-audio', `${file} is not an audio file (no audio stream found)`, file);
  }
  const sourceDuration = stream.duration ?? probe.duration;
  const range = checkRange(file, sourceDuration, opts);
  const wanted = (range.end ?? sourceDuration ?? Infinity) - range.start;
  // An unknown length (no end given, no duration stated) is checked while decoding instead.
  if (Number.isFinite(wanted) && wanted > maxDuration) {
    throw new MediaError('audio-too-long', `the speech from ${file} is ${fmtSeconds(wanted)} long, more than the limit of ${fmtSeconds(maxDuration)}; trim it with start/end or raise the limit`, file);
  }

  // Input options: accurate seek to start (ffmpeg decodes and drops what precedes it), then a length.
  const input = [...(range.start > 0 ? ['-ss', String(range.start)] : []), ...(range.end !== null ? ['-t', String(range.end - range.start)] : []), '-i', file];
  const common = ['-nostdin', '-hide_banner', '-nostats', ...input, '-map', `0:${stream.index}`, '-vn', '-sn', '-dn'];
  const warnings: string[] = [];

  let filter = 'aformat=channel_layouts=mono';
  let loudness: DecodedAudio['loudness'];
  if (opts.normalize) {
    const target = typeof opts.normalize === 'object' ? opts.normalize : {};
    const I = target.targetLufs ?? -23;
    const TP = target.truePeak ?? -1.5;
    // LRA 20 (the widest this ffmpeg accepts) so that loudnorm keeps to a single linear gain for speech.
    const base = `loudnorm=I=${I}:TP=${TP}:LRA=20`;
    const pass1 = await runFfmpeg(['-v', 'info', ...common, '-af', `${filter},${base}:print_format=json`, '-f', 'null', '-'], opts.signal ? { signal: opts.signal } : {});
    const m = pass1.code === 0 ? parseLoudnorm(pass1.stderr) : null;
    if (!m) throw new MediaError('ffmpeg-failed', `measuring the loudness of ${file} failed: ${stderrSummary(pass1.stderr)}`, file);
    const inputLufs = lufs(m.input_i);
    if (inputLufs < silenceDb) {
      loudness = { inputLufs, targetLufs: I, applied: false };
      warnings.push(`${file} is silent or nearly so (${Number.isFinite(inputLufs) ? inputLufs.toFixed(1) : '−∞'} LUFS, threshold ${silenceDb}); it was not normalised`);
    } else {
      loudness = { inputLufs, targetLufs: I, applied: true };
      filter += `,${base}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true`;
    }
  }
  // loudnorm works at 192 kHz; the resampler after it (or ffmpeg's automatic one) brings it to 16 kHz.
  filter += `,aresample=${sr}`;

  // The PCM grows into one buffer; a known length sizes it once. Past the limit the decode stops.
  const maxBytes = Math.ceil((maxDuration + 0.05) * sr) * 4;
  let buf = Buffer.allocUnsafe(Number.isFinite(wanted) ? Math.min(maxBytes, Math.ceil(wanted * sr) * 4 + 65536) : 1 << 20);
  let used = 0;
  let overLimit = false;
  const run = await runFfmpeg(['-v', 'error', ...common, '-af', filter, '-ac', '1', '-ar', String(sr), '-c:a', 'pcm_f32le', '-f', 'f32le', 'pipe:1'], {
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStdout: (chunk) => {
      if (used + chunk.length > maxBytes) {
        overLimit = true;
        return false;
      }
      if (used + chunk.length > buf.length) {
        const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(buf.length * 2, used + chunk.length)));
        buf.copy(grown, 0, 0, used);
        buf = grown;
      }
      chunk.copy(buf, used);
      used += chunk.length;
      return true;
    },
  });
  if (overLimit) {
    throw new MediaError('audio-too-long', `the speech from ${file} is longer than the limit of ${fmtSeconds(maxDuration)}; trim it with start/end or raise the limit`, file);
  }
  if (run.code !== 0) throw new MediaError('ffmpeg-failed', `decoding the audio of ${file} failed: ${stderrSummary(run.stderr)}`, file);

  let n = used >> 2;
  // ffmpeg may overshoot the requested length by part of a frame; cut to the range exactly.
  if (range.end !== null) n = Math.min(n, Math.round((range.end - range.start) * sr));
  if (n === 0) throw new MediaError('empty-audio', `${file} contains no audio in the chosen range (zero length)`, file);
  const samples = new Float32Array(n);
  new Uint8Array(samples.buffer).set(buf.subarray(0, n * 4));

  const level = rmsDb(samples);
  const silent = loudness ? !loudness.applied : level < silenceDb;
  if (silent && !loudness) warnings.push(`${file} is silent or nearly so (RMS ${Number.isFinite(level) ? level.toFixed(1) : '−∞'} dBFS, threshold ${silenceDb} dBFS); the face will barely move`);
  const duration = n / sr;
  return {
    file,
    samples,
    sampleRate: sr,
    duration,
    start: range.start,
    end: range.start + duration,
    sourceDuration,
    rmsDb: level,
    silent,
    ...(loudness ? { loudness } : {}),
    warnings,
  };
}
