// A small Klatt-style formant synthesiser. A phone timeline becomes control tracks at 1 ms steps
// (formants, voicing, aspiration, frication, F0), smoothed so that formants glide between phones;
// then each sample runs a glottal pulse train (with jitter and shimmer) and aspiration noise through a
// cascade of formant resonators, adds band-passed frication noise, and applies lip radiation.
//
// Prosody: F0 falls across each phrase (declination) and at its end, accented syllables get a pitch
// peak and more loudness, so the loudness envelope carries both the syllable rhythm (for the lips) and
// the accents (for brows and head).
import type { Rng } from '../rng.js';
import type { TimedPhone } from './sentence.js';
import type { Voice } from './voice.js';

export const SAMPLE_RATE = 16000;
const CTL = 16; // samples per control step (1 ms)
// Noise levels relative to the voiced source, set so that vowels are the loudest sounds (open vowels
// ~5 dB above close ones), sibilants ~10 dB and /h/, nasals and glides 10–15 dB below them, as in speech.
const ASPIRATION = 0.07;
const FRICATION = 0.15;

/** Second-order resonator y = a·x + b·y1 + c·y2 with unity gain at DC (Klatt 1980). */
class Resonator {
  private y1 = 0;
  private y2 = 0;
  a = 1;
  b = 0;
  c = 0;
  set(freq: number, bw: number): void {
    const T = 1 / SAMPLE_RATE;
    const r = Math.exp(-Math.PI * bw * T);
    this.c = -r * r;
    this.b = 2 * r * Math.cos(2 * Math.PI * freq * T);
    this.a = 1 - this.b - this.c;
  }
  step(x: number): number {
    const y = this.a * x + this.b * this.y1 + this.c * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/** Band-pass with 0 dB peak (RBJ cookbook), for frication noise. */
class BandPass {
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;
  private b0 = 0;
  private a1 = 0;
  private a2 = 0;
  set(freq: number, bw: number): void {
    const f = Math.min(freq, SAMPLE_RATE * 0.45);
    const w0 = (2 * Math.PI * f) / SAMPLE_RATE;
    const alpha = Math.sin(w0) / (2 * Math.max(0.3, f / bw));
    const a0 = 1 + alpha;
    this.b0 = alpha / a0;
    this.a1 = (-2 * Math.cos(w0)) / a0;
    this.a2 = (1 - alpha) / a0;
  }
  step(x: number): number {
    const y = this.b0 * (x - this.x2) - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/** Zero-phase one-pole smoothing (forward then backward) with time constant `tau` control steps. */
function smooth(x: Float32Array, tau: number): void {
  const k = 1 - Math.exp(-1 / Math.max(1e-3, tau));
  for (let i = 1; i < x.length; i++) x[i] = x[i - 1]! + k * (x[i]! - x[i - 1]!);
  for (let i = x.length - 2; i >= 0; i--) x[i] = x[i + 1]! + k * (x[i]! - x[i + 1]!);
}

interface Tracks {
  f1: Float32Array;
  f2: Float32Array;
  f3: Float32Array;
  av: Float32Array;
  ah: Float32Array;
  af: Float32Array;
  ff: Float32Array;
  fbw: Float32Array;
  semis: Float32Array;
  gain: Float32Array;
}

function buildTracks(phones: readonly TimedPhone[], voice: Voice, n: number): Tracks {
  const mk = (): Float32Array => new Float32Array(n);
  const t: Tracks = { f1: mk(), f2: mk(), f3: mk(), av: mk(), ah: mk(), af: mk(), ff: mk(), fbw: mk(), semis: mk(), gain: mk() };
  const burst = { af: mk(), ff: mk() }; // bursts are not smoothed: they must stay sharp
  let prevFormants: readonly number[] = [500, 1500, 2500];
  let prevSemis = 0;
  for (let pi = 0; pi < phones.length; pi++) {
    const p = phones[pi]!;
    const s = p.spec;
    const i0 = Math.max(0, Math.round(p.start * 1000));
    const i1 = Math.min(n, Math.round(p.end * 1000));
    const len = Math.max(1, i1 - i0);
    const next = phones[pi + 1];
    const form = s.cls === 'pause' ? prevFormants : s.formants;
    // Declination: a phrase starts near +decl/2 and ends near −decl/2 semitones, with a final fall.
    const semis = s.cls === 'pause' ? prevSemis : voice.declinationSemitones * (0.5 - p.phrasePos) - (p.phrasePos > 0.85 ? 1.5 * (p.phrasePos - 0.85) / 0.15 : 0);
    for (let i = i0; i < i1; i++) {
      const u = (i - i0) / len;
      t.f1[i] = form[0]! * voice.formantScale;
      t.f2[i] = form[1]! * voice.formantScale;
      t.f3[i] = form[2]! * voice.formantScale;
      t.semis[i] = semis;
      t.gain[i] = 1;
      switch (s.cls) {
        case 'vowel':
          t.av[i] = 1;
          break;
        case 'approximant':
          t.av[i] = 0.6;
          break;
        case 'nasal':
          t.av[i] = 0.4;
          // Nasal murmur: the oral formants are damped; a low F1 dominates.
          t.f2[i] = t.f2[i]! * 0.9;
          break;
        case 'fricative':
          t.av[i] = s.voiced ? 0.35 : 0;
          t.af[i] = s.frication!.level * (s.symbol === 'HH' ? 0 : 1);
          t.ah[i] = s.symbol === 'HH' ? 0.5 : 0;
          t.ff[i] = s.frication!.freq;
          t.fbw[i] = s.frication!.bw;
          if (s.symbol === 'HH' && next) {
            // /h/ is aspiration through the next vowel's formants.
            t.f1[i] = next.spec.formants[0] * voice.formantScale;
            t.f2[i] = next.spec.formants[1] * voice.formantScale;
            t.f3[i] = next.spec.formants[2] * voice.formantScale;
          }
          break;
        case 'plosive': {
          // Closure (silence or a voice bar), a short burst, then aspiration for voiceless ones.
          const closure = s.voiced ? 0.7 : 0.55;
          if (u < closure) t.av[i] = s.voiced ? 0.12 : 0;
          else if (u < closure + 0.12) {
            burst.af[i] = 0.9;
            burst.ff[i] = s.burst!;
            t.av[i] = s.voiced ? 0.3 : 0;
          } else {
            t.av[i] = s.voiced ? 0.6 : 0;
            t.ah[i] = s.voiced ? 0 : 0.45;
          }
          if (!s.voiced && next) {
            t.f1[i] = next.spec.formants[0] * voice.formantScale;
            t.f2[i] = next.spec.formants[1] * voice.formantScale;
          }
          break;
        }
        case 'pause':
          t.gain[i] = 0;
          break;
      }
      // Loudness: accents louder, the phrase fades a little towards its end.
      if (s.cls !== 'pause') t.gain[i] = Math.pow(10, (voice.accentDb * p.accent) / 20) * (1 - 0.15 * p.phrasePos);
    }
    if (s.cls !== 'pause') {
      prevFormants = s.formants;
      prevSemis = semis;
    }
  }
  smooth(t.f1, 12);
  smooth(t.f2, 15);
  smooth(t.f3, 15);
  smooth(t.av, 6);
  smooth(t.ah, 5);
  smooth(t.af, 6);
  smooth(t.ff, 5);
  smooth(t.fbw, 5);
  smooth(t.semis, 40);
  smooth(t.gain, 15);
  // Accent bumps after smoothing: their shape is set here directly.
  for (const p of phones) {
    if (p.accent <= 0) continue;
    const c = (p.start + p.end) / 2;
    const w = Math.max(0.06, (p.end - p.start) * 0.6);
    const lo = Math.max(0, Math.round((c - 3 * w) * 1000));
    const hi = Math.min(n, Math.round((c + 3 * w) * 1000));
    for (let i = lo; i < hi; i++) {
      const d = (i / 1000 - c) / w;
      t.semis[i] = t.semis[i]! + voice.accentSemitones * p.accent * Math.exp(-0.5 * d * d);
    }
  }
  for (let i = 0; i < n; i++) {
    if (burst.af[i]! > 0) {
      t.af[i] = Math.max(t.af[i]!, burst.af[i]!);
      t.ff[i] = burst.ff[i]!;
      t.fbw[i] = burst.ff[i]! * 0.8;
    }
  }
  return t;
}

/**
 * Synthesises `seconds` of audio (16 kHz mono) for the timeline. `rng` drives jitter, shimmer and
 * noise, so the same (timeline, voice, rng stream) gives the same samples. The speech is normalised
 * to about −20 dBFS RMS over its voiced parts (peaks ≤ 0.9).
 */
export function synthesize(phones: readonly TimedPhone[], voice: Voice, seconds: number, rng: Rng): Float32Array {
  const N = Math.round(seconds * SAMPLE_RATE);
  const nCtl = Math.ceil(N / CTL) + 1;
  const tr = buildTracks(phones, voice, nCtl);
  const out = new Float32Array(N);
  const r1 = new Resonator();
  const r2 = new Resonator();
  const r3 = new Resonator();
  const r4 = new Resonator();
  const r5 = new Resonator();
  const glottal = new Resonator();
  const fric = new BandPass();
  r4.set(3300 * voice.formantScale, 250);
  r5.set(Math.min(7000, 3750 * voice.formantScale), 300);
  glottal.set(0, voice.tilt);
  let phase = 0;
  let period = SAMPLE_RATE / voice.f0;
  let pulseAmp = 1;
  let pending = 0; // the fractional part of an impulse carried into the next sample
  let prevOut = 0;
  let noiseState = 0;
  for (let c = 0; c * CTL < N; c++) {
    const f0 = voice.f0 * Math.pow(2, tr.semis[c]! / 12);
    const b1 = 60 + 120 * voice.breathiness;
    r1.set(tr.f1[c]!, b1);
    r2.set(tr.f2[c]!, 90);
    r3.set(tr.f3[c]!, 160);
    fric.set(Math.max(200, tr.ff[c]!), Math.max(200, tr.fbw[c]!));
    const av = tr.av[c]! * tr.gain[c]!;
    const ah = tr.ah[c]! * tr.gain[c]!;
    const af = tr.af[c]! * tr.gain[c]!;
    const end = Math.min(N, (c + 1) * CTL);
    for (let n = c * CTL; n < end; n++) {
      // Glottal pulses: an impulse each period, split over two samples by its fractional position.
      let impulse = pending;
      pending = 0;
      phase += 1;
      if (phase >= period) {
        phase -= period;
        const frac = phase; // how far past the pulse time this sample is
        impulse += pulseAmp * (1 - frac);
        pending = pulseAmp * frac;
        period = (SAMPLE_RATE / f0) * (1 + voice.jitter * rng.normal());
        pulseAmp = 1 + voice.shimmer * rng.normal();
      }
      const g = glottal.step(impulse * 40);
      const white = rng.next() * 2 - 1;
      // Slightly low-passed noise for aspiration (breath is not white).
      noiseState = 0.6 * noiseState + 0.4 * white;
      const open = phase < period * 0.5 ? 1 : 0.3; // breath noise is louder while the glottis is open
      const source = av * g + (ah + av * voice.breathiness * 2 * open) * noiseState * ASPIRATION;
      let y = r5.step(r4.step(r3.step(r2.step(r1.step(source)))));
      y += af * fric.step(white) * FRICATION;
      // Lip radiation: a first difference (+6 dB/octave).
      out[n] = y - prevOut;
      prevOut = y;
    }
  }
  // Normalise: RMS over the louder half of 10 ms blocks, so silence does not pull the level.
  const block = 160;
  const energies: number[] = [];
  for (let i = 0; i + block <= N; i += block) {
    let e = 0;
    for (let j = i; j < i + block; j++) e += out[j]! * out[j]!;
    energies.push(e / block);
  }
  energies.sort((a, b) => b - a);
  const top = energies.slice(0, Math.max(1, Math.floor(energies.length / 2)));
  const rms = Math.sqrt(top.reduce((a, b) => a + b, 0) / top.length) || 1;
  let peak = 0;
  for (let i = 0; i < N; i++) peak = Math.max(peak, Math.abs(out[i]!));
  const scale = Math.min(0.1 / rms, 0.9 / (peak || 1));
  for (let i = 0; i < N; i++) out[i] = out[i]! * scale + (rng.next() * 2 - 1) * 1e-4; // a faint noise floor
  return out;
}
