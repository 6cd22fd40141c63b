// Speech feature series (log-mel at 100 Hz, wav2vec2 hidden states at 50 Hz) → one row per video frame.
//
// Video frame k is the instant k/fps (its presentation time). With `context` = c sub-steps, row k
// holds c feature vectors taken at the centres of c equal sub-intervals of [k − ½, k + ½)/fps, i.e.
// at (k − ½ + (j + ½)/c)/fps, j < c, concatenated: [Tvideo, channels·c]. Two ways to take a value:
// - 'area': the mean of the series over the sub-interval, treating frame i as constant over
//   [t_i − ½/rate, t_i + ½/rate) (exact fractional overlaps). This low-passes before decimating, so no
//   feature frame is skipped when the series is faster than the sub-steps (mel 100 Hz → 15·4 = 60 Hz).
// - 'linear': linear interpolation at the sub-step centre (what Wan2.2-S2V and OmniAvatar do with
//   wav2vec2 states).
// Times before the first or after the last feature frame take the edge frame.

export type Resample = 'area' | 'linear';

export interface FeatureSeries {
  /** [frames, channels], row-major. */
  data: Float32Array;
  frames: number;
  channels: number;
  /** Frames per second. */
  rate: number;
  /** Time in seconds of frame 0's centre. */
  offset: number;
}

export interface AlignOptions {
  fps: number;
  /** Rows to produce (see videoFrameCount). */
  videoFrames: number;
  /** Sub-steps per video frame (default 1). */
  context?: number;
  resample?: Resample;
}

/** Video frames of a clip: round(duration·fps). */
export function videoFrameCount(durationSeconds: number, fps: number): number {
  if (!(durationSeconds >= 0) || !(fps > 0)) throw new RangeError(`duration ${durationSeconds} s and fps ${fps} must be non-negative and positive`);
  return Math.round(durationSeconds * fps);
}

/** The sample times (seconds) of every row's sub-steps, [videoFrames·context]. */
export function subStepTimes(fps: number, videoFrames: number, context = 1): Float64Array {
  const t = new Float64Array(videoFrames * context);
  for (let k = 0; k < videoFrames; k++) for (let j = 0; j < context; j++) t[k * context + j] = (k - 0.5 + (j + 0.5) / context) / fps;
  return t;
}

function addRow(out: Float32Array, o: number, s: FeatureSeries, i: number, w: number): void {
  const C = s.channels;
  const base = i * C;
  for (let ch = 0; ch < C; ch++) out[o + ch] = out[o + ch]! + w * s.data[base + ch]!;
}

/** Rows [videoFrames, channels·context] aligned to the video frames (see the header). */
export function alignToVideo(s: FeatureSeries, o: AlignOptions): Float32Array {
  const ctx = o.context ?? 1;
  const mode = o.resample ?? 'area';
  if (!Number.isInteger(ctx) || ctx < 1) throw new RangeError(`context ${ctx} must be a positive integer`);
  if (s.frames < 1) throw new RangeError('cannot align an empty feature series');
  if (s.data.length !== s.frames * s.channels) throw new RangeError(`feature series has ${s.data.length} values, ${s.frames}×${s.channels} expected`);
  const C = s.channels;
  const times = subStepTimes(o.fps, o.videoFrames, ctx);
  const out = new Float32Array(times.length * C);
  const last = s.frames - 1;
  const pos = (t: number): number => (t - s.offset) * s.rate; // fractional frame index
  const halfWidth = (s.rate / o.fps / ctx) / 2; // sub-interval half width, in frames
  times.forEach((t, n) => {
    const dst = n * C;
    const x = pos(t);
    if (mode === 'linear') {
      const xc = Math.min(Math.max(x, 0), last);
      const i0 = Math.floor(xc);
      const i1 = Math.min(i0 + 1, last);
      const f = xc - i0;
      addRow(out, dst, s, i0, 1 - f);
      if (f > 0) addRow(out, dst, s, i1, f);
      return;
    }
    // Frame i covers [i − ½, i + ½) in index units; frames outside 0..last extend the edge frames.
    const a = x - halfWidth;
    const b = x + halfWidth;
    const iFirst = Math.floor(a + 0.5);
    const iLast = Math.ceil(b - 0.5);
    let total = 0;
    for (let i = iFirst; i <= iLast; i++) {
      const ov = Math.min(b, i + 0.5) - Math.max(a, i - 0.5);
      if (ov <= 0) continue;
      addRow(out, dst, s, Math.min(Math.max(i, 0), last), ov);
      total += ov;
    }
    for (let ch = 0; ch < C; ch++) out[dst + ch] = out[dst + ch]! / total;
  });
  return out;
}
