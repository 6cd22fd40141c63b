// Log-mel spectrogram of 16 kHz mono speech, in TypeScript (no Python at run time, DESIGN 1).
//
// Defaults follow Whisper's front-end (itself librosa's): n_fft 400 (25 ms), hop 160 (10 ms), periodic
// Hann window of 400 samples, centred frames with reflect padding (frame m is centred on sample m·hop,
// like torch.stft(center=True)), power spectrum, 80 mel bands over 0–8 kHz on the SLANEY mel scale
// with Slaney area normalisation (librosa's default, htk=False, norm='slaney'). We chose Slaney over
// HTK because it is the scale of the widely used speech models' front-ends (Whisper, librosa defaults),
// so features and intuitions transfer; 'htk' remains an option.
//
// Log: log10(max(mel, floor)), then (x + offset)/scale with Whisper's constants 4 and 4. Whisper also
// clamps to (clip max − 8); we use a fixed floor instead (1e-8 = −80 dB of power, ≈ −1 after scaling)
// so a chunk's features do not depend on the loudest moment elsewhere in the clip.
import { FFT } from './fft.js';

export type MelScale = 'slaney' | 'htk';

export interface MelConfig {
  sampleRate: number;
  nFft: number;
  hop: number;
  /** Hann window length (≤ nFft; centred in the FFT frame). */
  winLength: number;
  nMels: number;
  fMin: number;
  fMax: number;
  scale: MelScale;
  /** 'slaney': each filter divided by its width in Hz (constant energy per band); null: peak 1. */
  norm: 'slaney' | null;
  logFloor: number;
  logOffset: number;
  logScale: number;
}

export const DEFAULT_MEL: MelConfig = {
  sampleRate: 16000,
  nFft: 400,
  hop: 160,
  winLength: 400,
  nMels: 80,
  fMin: 0,
  fMax: 8000,
  scale: 'slaney',
  norm: 'slaney',
  logFloor: 1e-8,
  logOffset: 4,
  logScale: 4,
};

// Slaney: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4).
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(f: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHz(m: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  return m < MIN_LOG_MEL ? m * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL));
}

/** Band edges in Hz: band b rises from edges[b] to a peak at edges[b+1] and falls to 0 at edges[b+2]. */
export function melBandEdges(c: MelConfig): Float64Array {
  const lo = hzToMel(c.fMin, c.scale);
  const hi = hzToMel(c.fMax, c.scale);
  return Float64Array.from({ length: c.nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (c.nMels + 1), c.scale));
}

/** Triangular filters [nMels, nFft/2 + 1] (librosa.filters.mel). */
export function melFilterbank(c: MelConfig): Float32Array {
  const bins = c.nFft / 2 + 1;
  const edges = melBandEdges(c);
  const fb = new Float32Array(c.nMels * bins);
  for (let b = 0; b < c.nMels; b++) {
    const [l, m, r] = [edges[b]!, edges[b + 1]!, edges[b + 2]!];
    const enorm = c.norm === 'slaney' ? 2 / (r - l) : 1;
    for (let k = 0; k < bins; k++) {
      const f = (k * c.sampleRate) / c.nFft;
      const w = Math.max(0, Math.min((f - l) / (m - l), (r - f) / (r - m)));
      fb[b * bins + k] = w * enorm;
    }
  }
  return fb;
}

export interface LogMel {
  /** [frames, nMels], row-major. */
  data: Float32Array;
  frames: number;
  nMels: number;
  /** Frames per second (sampleRate / hop). */
  rate: number;
  /** Time in seconds of frame 0's centre (0 for centred frames). */
  offset: number;
}

function validate(c: MelConfig): void {
  const bad = (d: string): never => {
    throw new RangeError(`mel config: ${d}`);
  };
  if (!Number.isInteger(c.nFft) || c.nFft < 2 || c.nFft % 2 !== 0) bad(`nFft ${c.nFft} must be an even integer ≥ 2`);
  if (!Number.isInteger(c.hop) || c.hop < 1) bad(`hop ${c.hop} must be a positive integer`);
  if (!Number.isInteger(c.winLength) || c.winLength < 1 || c.winLength > c.nFft) bad(`winLength ${c.winLength} must be in 1..nFft`);
  if (!(c.fMin >= 0 && c.fMax > c.fMin && c.fMax <= c.sampleRate / 2)) bad(`band ${c.fMin}..${c.fMax} Hz must lie within 0..${c.sampleRate / 2} Hz`);
  if (!(c.logFloor > 0)) bad('logFloor must be > 0');
}

/**
 * Log-mel spectrogram of `audio` (mono float samples at c.sampleRate). Frames: 1 + floor(N / hop),
 * frame m centred on sample m·hop.
 */
export function logMelSpectrogram(audio: Float32Array, c: MelConfig = DEFAULT_MEL): LogMel {
  validate(c);
  const N = audio.length;
  const half = c.nFft / 2;
  const frames = 1 + Math.floor(N / c.hop);
  const bins = half + 1;
  // Periodic Hann (torch.hann_window default), centred in the n_fft frame when shorter.
  const win = new Float64Array(c.nFft);
  const wOff = Math.floor((c.nFft - c.winLength) / 2);
  for (let i = 0; i < c.winLength; i++) win[wOff + i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / c.winLength);
  // Reflect padding needs N > half; shorter input is zero-padded.
  const reflect = N > half;
  const sample = (i: number): number => {
    if (i >= 0 && i < N) return audio[i]!;
    if (!reflect) return 0;
    return i < 0 ? audio[-i]! : audio[2 * (N - 1) - i]!;
  };
  const fb = melFilterbank(c);
  // Bins where each filter is non-zero, so the mel projection skips the zeros.
  const ranges = Array.from({ length: c.nMels }, (_, b) => {
    let lo = bins;
    let hi = -1;
    for (let k = 0; k < bins; k++) {
      if (fb[b * bins + k]! > 0) {
        lo = Math.min(lo, k);
        hi = k;
      }
    }
    return [lo, hi] as const;
  });
  const fft = new FFT(c.nFft);
  const re = new Float64Array(c.nFft);
  const im = new Float64Array(c.nFft);
  const power = new Float64Array(bins);
  const out = new Float32Array(frames * c.nMels);
  for (let m = 0; m < frames; m++) {
    const start = m * c.hop - half;
    for (let i = 0; i < c.nFft; i++) re[i] = sample(start + i) * win[i]!;
    im.fill(0);
    fft.transform(re, im);
    for (let k = 0; k < bins; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    for (let b = 0; b < c.nMels; b++) {
      const [lo, hi] = ranges[b]!;
      let s = 0;
      for (let k = lo; k <= hi; k++) s += fb[b * bins + k]! * power[k]!;
      out[m * c.nMels + b] = (Math.log10(Math.max(s, c.logFloor)) + c.logOffset) / c.logScale;
    }
  }
  return { data: out, frames, nMels: c.nMels, rate: c.sampleRate / c.hop, offset: 0 };
}
