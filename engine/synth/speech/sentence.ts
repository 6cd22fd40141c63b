// Sentences for the synthetic world: pseudo-words built from the phoneme inventory, grouped into
// phrases separated by pauses, and timed. Words come from a fixed lexicon that is split in two by a
// hash of each word, so a held-out sentence never uses a word the training pool has.
import type { PhoneEvent } from '../types.js';
import type { Rng, Split } from '../rng.js';
import { clipRng, hashString, rngFor } from '../rng.js';
import type { Phone } from './phonemes.js';
import { CODAS, ONSETS, SILENCE, VOWELS, phoneBySymbol } from './phonemes.js';

export interface Word {
  /** Phone symbols joined by "-", e.g. "M-AA-T-IY": also the word's identity for the split check. */
  text: string;
  phones: string[];
  /** Index in `phones` of the nucleus of the lexically stressed syllable. */
  stressIndex: number;
}

export interface TimedPhone extends PhoneEvent {
  spec: Phone;
  /** Pitch-accent strength 0 (none) .. 1; > 0 only on accented vowels (those are `stressed`). */
  accent: number;
  /** Phrase number (pauses separate phrases; −1 for pauses). */
  phrase: number;
  /** Position of the phone's middle within its phrase, 0..1 (declination). */
  phrasePos: number;
}

const LEXICON_SIZE = 4000;
/** One word in five goes to the held-out pool. */
const HELDOUT_EVERY = 5;

function makeWord(rng: Rng): Word {
  const syllables = rng.pick([1, 1, 2, 2, 2, 3]);
  const phones: string[] = [];
  const nuclei: number[] = [];
  for (let s = 0; s < syllables; s++) {
    if (rng.chance(0.8)) phones.push(rng.pick(ONSETS));
    nuclei.push(phones.length);
    phones.push(rng.pick(VOWELS).symbol);
    if (rng.chance(s === syllables - 1 ? 0.55 : 0.25)) phones.push(rng.pick(CODAS));
  }
  const stressIndex = nuclei[syllables === 1 ? 0 : rng.chance(0.6) ? 0 : rng.int(1, syllables - 1)]!;
  return { text: phones.join('-'), phones, stressIndex };
}

let lexicon: Record<Split, Word[]> | null = null;

/** The words of one split; the two lists share no word. */
export function wordPool(split: Split): readonly Word[] {
  if (!lexicon) {
    const rng = rngFor('lexicon/1');
    const seen = new Set<string>();
    const pools: Record<Split, Word[]> = { train: [], heldout: [] };
    for (let i = 0; i < LEXICON_SIZE; i++) {
      const w = makeWord(rng);
      if (seen.has(w.text)) continue;
      seen.add(w.text);
      pools[hashString(w.text) % HELDOUT_EVERY === 0 ? 'heldout' : 'train'].push(w);
    }
    lexicon = pools;
  }
  return lexicon[split];
}

export interface Utterance {
  phones: TimedPhone[];
  /** The words spoken, phrase by phrase. */
  words: string[][];
}

/**
 * Phrases of words until `seconds` are filled, with a leading silence, pauses between phrases and
 * silence to the end. `rate` > 1 speaks faster. Phones are cut at `seconds`.
 */
export function planUtterance(split: Split, seed: number, seconds: number, rate: number): Utterance {
  const rng = clipRng('sentence', split, seed);
  const pool = wordPool(split);
  const out: TimedPhone[] = [];
  const words: string[][] = [];
  let t = 0;
  const pause = (dur: number): void => {
    const end = Math.min(seconds, t + dur);
    if (end > t) out.push({ phone: SILENCE.symbol, cls: 'pause', start: t, end, stressed: false, spec: SILENCE, accent: 0, phrase: -1, phrasePos: 0 });
    t = end;
  };
  pause(rng.range(0.25, 0.6));
  let phrase = 0;
  while (t < seconds - 0.3) {
    const n = rng.int(2, 5);
    const phraseWords = Array.from({ length: n }, () => rng.pick(pool));
    words.push(phraseWords.map((w) => w.text));
    // One or two pitch accents per phrase, on the stressed syllables of chosen words; the last
    // accent is often the strongest (nuclear accent).
    const accented = new Set<number>([rng.int(0, n - 1)]);
    if (n > 2 && rng.chance(0.6)) accented.add(rng.int(0, n - 1));
    const start = out.length;
    for (let wi = 0; wi < n; wi++) {
      const w = phraseWords[wi]!;
      for (let pi = 0; pi < w.phones.length; pi++) {
        const spec = phoneBySymbol(w.phones[pi]!);
        const isStress = pi === w.stressIndex;
        const accent = isStress && accented.has(wi) ? rng.range(0.55, 1) : 0;
        let dur = spec.duration / rate;
        if (spec.cls === 'vowel') dur *= accent > 0 ? 1.45 : isStress ? 1.15 : 0.8;
        if (wi === n - 1 && pi >= w.phones.length - 2) dur *= 1.3; // phrase-final lengthening
        dur *= rng.range(0.85, 1.15);
        out.push({ phone: spec.symbol, cls: spec.cls, start: t, end: t + dur, stressed: accent > 0, spec, accent, phrase, phrasePos: 0 });
        t += dur;
      }
    }
    const phraseStart = out[start]!.start;
    const phraseLen = Math.max(1e-3, t - phraseStart);
    for (let i = start; i < out.length; i++) out[i]!.phrasePos = ((out[i]!.start + out[i]!.end) / 2 - phraseStart) / phraseLen;
    phrase++;
    // Mostly short breaths, sometimes a longer silence (so every clip shows the mouth at rest).
    pause(rng.chance(0.3) ? rng.range(0.6, 1.1) : rng.range(0.2, 0.45));
  }
  pause(seconds - t);
  // Cut what runs past the end.
  const kept = out.filter((p) => p.start < seconds);
  for (const p of kept) p.end = Math.min(p.end, seconds);
  return { phones: kept, words };
}
