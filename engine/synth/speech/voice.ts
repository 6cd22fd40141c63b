// Voices of the synthetic world: pitch, pitch range, speaking rate, vocal-tract length (formant
// scale), breathiness, jitter and shimmer. A voice is drawn from its own stream per (split, seed), so
// the held-out voices come from a seed space the training voices never use.
import type { Split } from '../rng.js';
import { clipRng } from '../rng.js';

export interface Voice {
  id: string;
  /** Mean F0 in Hz. */
  f0: number;
  /** Pitch-accent height in semitones (at accent strength 1). */
  accentSemitones: number;
  /** Fall of F0 across a phrase in semitones (declination). */
  declinationSemitones: number;
  /** Speaking rate multiplier (> 1 is faster). */
  rate: number;
  /** Formant scale: shorter vocal tracts have higher formants. */
  formantScale: number;
  /** Aspiration noise mixed into the voiced source, 0..1. */
  breathiness: number;
  /** Period-to-period F0 perturbation (fraction). */
  jitter: number;
  /** Period-to-period amplitude perturbation (fraction). */
  shimmer: number;
  /** Spectral tilt: bandwidth of the glottal low-pass in Hz (lower = darker voice). */
  tilt: number;
  /** Extra loudness of accented syllables (dB at accent 1). */
  accentDb: number;
}

export function makeVoice(split: Split, seed: number): Voice {
  const rng = clipRng('voice', split, seed);
  const kind = rng.pick(['low', 'low', 'high', 'high', 'mid'] as const);
  const f0 = kind === 'low' ? rng.range(85, 140) : kind === 'high' ? rng.range(165, 250) : rng.range(130, 180);
  const formantScale = kind === 'low' ? rng.range(0.92, 1.02) : kind === 'high' ? rng.range(1.08, 1.2) : rng.range(1.0, 1.1);
  return {
    id: `${split}-voice-${seed}`,
    f0,
    accentSemitones: rng.range(2, 6),
    declinationSemitones: rng.range(1, 4),
    rate: rng.range(0.85, 1.25),
    formantScale,
    breathiness: rng.range(0, 0.45),
    jitter: rng.range(0.004, 0.02),
    shimmer: rng.range(0.02, 0.08),
    tilt: rng.range(120, 320),
    accentDb: rng.range(2, 4.5),
  };
}
