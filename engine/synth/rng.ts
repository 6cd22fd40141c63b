// Deterministic randomness for the synthetic world. Every random choice comes from a stream named by
// what it is for (e.g. "face|heldout|17"), so adding a new random parameter to one part does not
// reshuffle the others, and the held-out pool draws from seed spaces the training pool never touches.

/** FNV-1a, 32 bit: a stable hash of a stream name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Whole number in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Standard normal (Box–Muller). */
  normal(): number;
  chance(p: number): boolean;
}

/** mulberry32 seeded from the hash of `name` (fast, 2^32 period: plenty for one clip's choices). */
export function rngFor(name: string): Rng {
  let a = hashString(name);
  // Mix once more so that names differing only in their last character start far apart.
  a = Math.imul(a ^ (a >>> 16), 0x45d9f3b) >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    range: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.min(hi - lo, Math.floor(next() * (hi - lo + 1))),
    pick: <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(next() * items.length))]!,
    normal: () => {
      const u = Math.max(1e-12, next());
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    chance: (p) => next() < p,
  };
}

export type Split = 'train' | 'heldout';

/** The stream for one part of one clip: `part|split|seed`. */
export function clipRng(part: string, split: Split, seed: number): Rng {
  return rngFor(`${part}|${split}|${seed}`);
}
