// The phoneme inventory of the synthetic world: for each phone its class, its acoustic targets for
// the formant synthesiser and its visual target (viseme) for the mouth. Values are textbook averages
// for an adult male voice (Peterson & Barney, Klatt 1980); voices scale the formants.
import type { PhoneClass } from '../types.js';

export interface Viseme {
  /** Lip opening 0..1. */
  open: number;
  /** Width −1 (pursed) .. 1 (spread). */
  width: number;
  /** Rounding 0..1. */
  round: number;
  /**
   * How strongly the phone imposes its shape on its neighbours (coarticulation): bilabial closures and
   * vowels dominate, tongue consonants (T, K, N …) barely show on the lips and take their neighbours' shape.
   */
  dominance: number;
}

export interface Phone {
  symbol: string;
  cls: PhoneClass;
  /** Formant targets F1–F3 in Hz (for consonants: the locus the transitions head to). */
  formants: [number, number, number];
  voiced: boolean;
  /** Frication noise: centre frequency, bandwidth (Hz) and level (0 = none). */
  frication?: { freq: number; bw: number; level: number };
  /** Plosive burst centre frequency (Hz). */
  burst?: number;
  /** Base duration in seconds at rate 1. */
  duration: number;
  viseme: Viseme;
}

const V = (symbol: string, f: [number, number, number], duration: number, open: number, width: number, round: number): Phone => ({
  symbol,
  cls: 'vowel',
  formants: f,
  voiced: true,
  duration,
  viseme: { open, width, round, dominance: 0.8 },
});

export const VOWELS: readonly Phone[] = [
  V('IY', [270, 2290, 3010], 0.12, 0.28, 0.8, 0),
  V('IH', [390, 1990, 2550], 0.09, 0.38, 0.5, 0),
  V('EH', [530, 1840, 2480], 0.1, 0.58, 0.45, 0),
  V('AE', [660, 1720, 2410], 0.13, 0.82, 0.5, 0),
  V('AA', [730, 1090, 2440], 0.13, 1.0, 0.1, 0),
  V('AH', [640, 1190, 2390], 0.09, 0.62, 0.1, 0),
  V('AO', [570, 840, 2410], 0.13, 0.75, -0.35, 0.55),
  V('UH', [440, 1020, 2240], 0.09, 0.42, -0.35, 0.45),
  V('UW', [300, 870, 2240], 0.12, 0.26, -0.85, 1),
  V('ER', [490, 1350, 1690], 0.12, 0.36, -0.2, 0.35),
];

type ConsonantSpec = Omit<Phone, 'viseme'> & { viseme: Viseme };

const C = (p: ConsonantSpec): Phone => p;

export const CONSONANTS: readonly Phone[] = [
  // Plosives: closure, burst, (aspiration). Bilabials shut the lips completely and dominate.
  C({ symbol: 'P', cls: 'plosive', formants: [200, 800, 2200], voiced: false, burst: 900, duration: 0.085, viseme: { open: 0, width: 0, round: 0, dominance: 1 } }),
  C({ symbol: 'B', cls: 'plosive', formants: [200, 800, 2200], voiced: true, burst: 900, duration: 0.07, viseme: { open: 0, width: 0, round: 0, dominance: 1 } }),
  C({ symbol: 'T', cls: 'plosive', formants: [250, 1700, 2600], voiced: false, burst: 4200, duration: 0.075, viseme: { open: 0.15, width: 0.2, round: 0, dominance: 0.25 } }),
  C({ symbol: 'D', cls: 'plosive', formants: [250, 1700, 2600], voiced: true, burst: 3800, duration: 0.06, viseme: { open: 0.15, width: 0.2, round: 0, dominance: 0.25 } }),
  C({ symbol: 'K', cls: 'plosive', formants: [250, 1900, 2300], voiced: false, burst: 2200, duration: 0.08, viseme: { open: 0.25, width: 0, round: 0, dominance: 0.15 } }),
  C({ symbol: 'G', cls: 'plosive', formants: [250, 1900, 2300], voiced: true, burst: 2000, duration: 0.065, viseme: { open: 0.25, width: 0, round: 0, dominance: 0.15 } }),
  // Fricatives.
  C({ symbol: 'S', cls: 'fricative', formants: [250, 1700, 2600], voiced: false, frication: { freq: 5600, bw: 1800, level: 0.5 }, duration: 0.11, viseme: { open: 0.1, width: 0.45, round: 0, dominance: 0.55 } }),
  C({ symbol: 'Z', cls: 'fricative', formants: [250, 1700, 2600], voiced: true, frication: { freq: 5400, bw: 1800, level: 0.3 }, duration: 0.085, viseme: { open: 0.1, width: 0.45, round: 0, dominance: 0.55 } }),
  C({ symbol: 'SH', cls: 'fricative', formants: [250, 1800, 2300], voiced: false, frication: { freq: 2900, bw: 1200, level: 0.55 }, duration: 0.12, viseme: { open: 0.14, width: -0.5, round: 0.65, dominance: 0.75 } }),
  C({ symbol: 'F', cls: 'fricative', formants: [250, 900, 2200], voiced: false, frication: { freq: 4500, bw: 4500, level: 0.18 }, duration: 0.1, viseme: { open: 0.05, width: 0.1, round: 0, dominance: 0.95 } }),
  C({ symbol: 'V', cls: 'fricative', formants: [250, 900, 2200], voiced: true, frication: { freq: 4500, bw: 4500, level: 0.12 }, duration: 0.07, viseme: { open: 0.05, width: 0.1, round: 0, dominance: 0.95 } }),
  C({ symbol: 'TH', cls: 'fricative', formants: [250, 1400, 2600], voiced: false, frication: { freq: 5000, bw: 5000, level: 0.14 }, duration: 0.1, viseme: { open: 0.18, width: 0.2, round: 0, dominance: 0.5 } }),
  C({ symbol: 'HH', cls: 'fricative', formants: [500, 1500, 2500], voiced: false, frication: { freq: 1500, bw: 3000, level: 0.12 }, duration: 0.07, viseme: { open: 0.4, width: 0, round: 0, dominance: 0.05 } }),
  // Nasals: a low murmur; M closes the lips.
  C({ symbol: 'M', cls: 'nasal', formants: [260, 1000, 2200], voiced: true, duration: 0.08, viseme: { open: 0, width: 0, round: 0, dominance: 1 } }),
  C({ symbol: 'N', cls: 'nasal', formants: [260, 1600, 2500], voiced: true, duration: 0.07, viseme: { open: 0.15, width: 0.2, round: 0, dominance: 0.25 } }),
  C({ symbol: 'NG', cls: 'nasal', formants: [260, 1900, 2300], voiced: true, duration: 0.08, viseme: { open: 0.22, width: 0, round: 0, dominance: 0.15 } }),
  // Approximants: vowel-like glides.
  C({ symbol: 'L', cls: 'approximant', formants: [360, 1100, 2700], voiced: true, duration: 0.07, viseme: { open: 0.22, width: 0.1, round: 0, dominance: 0.3 } }),
  C({ symbol: 'R', cls: 'approximant', formants: [420, 1250, 1650], voiced: true, duration: 0.07, viseme: { open: 0.18, width: -0.35, round: 0.5, dominance: 0.5 } }),
  C({ symbol: 'W', cls: 'approximant', formants: [300, 650, 2200], voiced: true, duration: 0.06, viseme: { open: 0.12, width: -0.85, round: 1, dominance: 0.85 } }),
  C({ symbol: 'Y', cls: 'approximant', formants: [260, 2100, 3000], voiced: true, duration: 0.06, viseme: { open: 0.18, width: 0.6, round: 0, dominance: 0.4 } }),
];

export const SILENCE: Phone = { symbol: 'sil', cls: 'pause', formants: [500, 1500, 2500], voiced: false, duration: 0.2, viseme: { open: 0, width: 0, round: 0, dominance: 1.2 } };

const BY_SYMBOL = new Map<string, Phone>([...VOWELS, ...CONSONANTS, SILENCE].map((p) => [p.symbol, p]));

export function phoneBySymbol(symbol: string): Phone {
  const p = BY_SYMBOL.get(symbol);
  if (!p) throw new Error(`unknown phone "${symbol}" (known: ${[...BY_SYMBOL.keys()].join(' ')})`);
  return p;
}

/** Consonants allowed before / after the vowel of a syllable. */
export const ONSETS = ['P', 'B', 'T', 'D', 'K', 'G', 'S', 'Z', 'SH', 'F', 'V', 'TH', 'HH', 'M', 'N', 'L', 'R', 'W', 'Y'] as const;
export const CODAS = ['P', 'T', 'K', 'D', 'S', 'Z', 'SH', 'F', 'TH', 'M', 'N', 'NG', 'L', 'R'] as const;
