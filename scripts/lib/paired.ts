// Paired differences between two measurements of the same held-out clips. With 16 clips a row's mean
// moves by ±0.05 in mouth correlation from clip choice alone, so variants are compared clip by clip on
// the clips both could measure, with a bootstrap interval over those clips: a difference whose interval
// includes 0 is not a finding.
import { rngFor } from '../../engine/synth/rng.js';
import type { EvalResult, EvalRow } from './held-out-eval.js';
import { MEASURES } from './held-out-eval.js';

export interface PairedDifference {
  /** Clips measured in both groups. */
  clips: number;
  /** Mean of (a − b) over those clips; null with fewer than 3. */
  mean: number | null;
  /** 95 % bootstrap interval of that mean (percentiles of 2000 resamples, seeded: the same every run). */
  lo: number | null;
  hi: number | null;
  /** Clips on which a is higher. */
  wins: number;
}

type Pick = (result: EvalResult) => unknown;

function valuesByClip(rows: readonly EvalRow[], pick: Pick): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (r.result.ok !== true) continue;
    const v = pick(r.result);
    if (typeof v === 'number' && Number.isFinite(v)) out.set(r.clip, v);
  }
  return out;
}

export function pairedDifference(a: readonly EvalRow[], b: readonly EvalRow[], pick: Pick, resamples = 2000): PairedDifference {
  const va = valuesByClip(a, pick);
  const vb = valuesByClip(b, pick);
  const d = [...va].filter(([clip]) => vb.has(clip)).map(([clip, x]) => x - vb.get(clip)!);
  const wins = d.filter((x) => x > 0).length;
  if (d.length < 3) return { clips: d.length, mean: null, lo: null, hi: null, wins };
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rng = rngFor('paired-bootstrap');
  const means = Array.from({ length: resamples }, () => mean(d.map(() => d[rng.int(0, d.length - 1)]!))).sort((x, y) => x - y);
  const r3 = (x: number): number => +x.toFixed(3);
  return { clips: d.length, mean: r3(mean(d)), lo: r3(means[Math.floor(resamples * 0.025)]!), hi: r3(means[Math.ceil(resamples * 0.975) - 1]!), wins };
}

/** "+0.071 [−0.030, +0.216]" or "–" when too few clips were measured in both. */
export function formatDifference(p: PairedDifference): string {
  if (p.mean === null) return '–';
  const s = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
  return `${s(p.mean)} [${s(p.lo!)}, ${s(p.hi!)}]`;
}

/** The measures a variant is compared on: lip sync, mouth correlation and picture fidelity. */
export type MeasureDifferences = Record<'mouthR' | 'confidence' | 'psnr', PairedDifference>;

/** `a` minus `b` on each compared measure, clip by clip on the clips both measured. */
export function measureDifferences(a: readonly EvalRow[], b: readonly EvalRow[]): MeasureDifferences {
  return { mouthR: pairedDifference(a, b, MEASURES.mouthR), confidence: pairedDifference(a, b, MEASURES.confidence), psnr: pairedDifference(a, b, MEASURES.psnr) };
}
