// Facial motion of the synthetic world, from the phone timeline. It encodes the two observations the
// model is built on:
//   - lips need LOCAL phonetic context: each phone pulls the mouth towards its viseme with a dominance
//     function (Cohen & Massaro 1993), so neighbouring phones blend (coarticulation), bilabials and
//     pauses close the mouth firmly, tongue consonants barely show; and the mouth ANTICIPATES: it is
//     evaluated `mouthLead` (60–95 ms, i.e. about one frame at 15 fps) ahead of the sound;
//   - expressions need GLOBAL prosodic context, including a little future: brows rise and the head
//     nods with each pitch accent, starting `browLead` / `headLead` (150–300 ms) before the accented
//     vowel; the head also drifts slowly, and the eyes blink at random every 2–6 s (~150 ms).
// All values are instantaneous at frame times i / fps.
import type { Rng } from './rng.js';
import type { TimedPhone } from './speech/sentence.js';

export interface MotionStyle {
  /** Seconds the mouth shape runs ahead of the sound. */
  mouthLead: number;
  /** Seconds before an accented vowel that the brows start to rise. */
  browLead: number;
  /** Seconds before an accented vowel that the head starts to nod. */
  headLead: number;
  /** Brow raise at accent strength 1 (0..1). */
  browAmp: number;
  /** Nod in degrees at accent strength 1. */
  nodDeg: number;
  /** How wide this person opens the mouth (0.8..1.1). */
  articulation: number;
}

export interface Motion {
  mouthOpen: number[];
  mouthWidth: number[];
  mouthRound: number[];
  brow: number[];
  headYaw: number[];
  headPitch: number[];
  headRoll: number[];
  blink: number[];
}

/** Dominance of each phone over the lips and how fast it falls off (seconds) outside the phone. */
function dominance(p: TimedPhone): { strength: number; falloff: number } {
  const s = p.spec.symbol;
  if (p.cls === 'pause') return { strength: 6, falloff: 0.05 };
  if (s === 'P' || s === 'B' || s === 'M') return { strength: 6, falloff: 0.03 };
  if (s === 'F' || s === 'V') return { strength: 3, falloff: 0.03 };
  if (p.cls === 'vowel') return { strength: 1, falloff: 0.06 };
  return { strength: p.spec.viseme.dominance, falloff: 0.04 };
}

/** The viseme blend at time `t` (seconds): open, width, round. */
export function visemeAt(phones: readonly TimedPhone[], t: number, articulation: number): { open: number; width: number; round: number } {
  let sw = 0;
  let so = 0;
  let swd = 0;
  let sr = 0;
  for (const p of phones) {
    if (p.end < t - 0.5 || p.start > t + 0.5) continue;
    const { strength, falloff } = dominance(p);
    const c = (p.start + p.end) / 2;
    const half = (p.end - p.start) / 2;
    // Full strength over the middle of the phone, decaying outside it.
    const d = Math.max(0, Math.abs(t - c) - half * 0.6) / falloff;
    const w = strength * Math.exp(-d * d);
    if (w < 1e-6) continue;
    const v = p.spec.viseme;
    const open = p.cls === 'vowel' ? Math.min(1, v.open * articulation * (0.8 + 0.4 * p.accent)) : v.open * articulation;
    sw += w;
    so += w * open;
    swd += w * v.width;
    sr += w * v.round;
  }
  if (sw < 1e-9) return { open: 0, width: 0, round: 0 };
  return { open: clamp(so / sw, 0, 1), width: clamp(swd / sw, -1, 1), round: clamp(sr / sw, 0, 1) };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** An accent-driven gesture: raised-cosine rise over `lead` s before the accent, hold, then decay. */
function gesture(tau: number, lead: number, hold: number, decay: number): number {
  if (tau < -lead) return 0;
  if (tau < 0) return 0.5 - 0.5 * Math.cos((Math.PI * (tau + lead)) / lead);
  if (tau < hold) return 1;
  return Math.exp(-(tau - hold) / decay);
}

/** A slow smooth wander: a few random sinusoids (0.08–0.45 Hz). */
function wander(rng: Rng, amp: number): (t: number) => number {
  const parts = Array.from({ length: 3 }, () => ({ f: rng.range(0.08, 0.45), ph: rng.range(0, 2 * Math.PI), a: rng.range(0.3, 1) }));
  const norm = parts.reduce((s, p) => s + p.a, 0);
  return (t) => (amp * parts.reduce((s, p) => s + p.a * Math.sin(2 * Math.PI * p.f * t + p.ph), 0)) / norm;
}

export function animate(phones: readonly TimedPhone[], fps: number, frames: number, style: MotionStyle, rng: Rng): Motion {
  const m: Motion = { mouthOpen: [], mouthWidth: [], mouthRound: [], brow: [], headYaw: [], headPitch: [], headRoll: [], blink: [] };
  const accents = phones.filter((p) => p.accent > 0).map((p) => ({ t: p.start, s: p.accent, turn: rng.range(-1, 1), tilt: rng.range(-1, 1) }));
  const yaw = wander(rng, rng.range(2, 6));
  const pitch = wander(rng, rng.range(1, 3));
  const roll = wander(rng, rng.range(1, 3));
  const browBase = rng.range(0, 0.12);
  // Blinks: first within 0.3–3 s, then every 2–6 s, each 120–180 ms (closing faster than opening).
  const blinks: { t: number; d: number }[] = [];
  const duration = frames / fps;
  for (let t = rng.range(0.3, 3); t < duration + 1; t += rng.range(2, 6)) blinks.push({ t, d: rng.range(0.12, 0.18) });
  for (let i = 0; i < frames; i++) {
    const t = i / fps;
    const v = visemeAt(phones, t + style.mouthLead, style.articulation);
    m.mouthOpen.push(v.open);
    m.mouthWidth.push(v.width);
    m.mouthRound.push(v.round);
    let brow = browBase;
    let nod = 0;
    let turn = 0;
    let tilt = 0;
    for (const a of accents) {
      brow += style.browAmp * a.s * gesture(t - a.t, style.browLead, 0.12, 0.3);
      const g = gesture(t - a.t, style.headLead, 0.05, 0.25);
      nod += style.nodDeg * a.s * g;
      turn += 2 * a.turn * a.s * g;
      tilt += 1.5 * a.tilt * a.s * g;
    }
    m.brow.push(clamp(brow, 0, 1));
    m.headPitch.push(pitch(t) - nod); // a nod tips the head down (negative pitch)
    m.headYaw.push(yaw(t) + turn);
    m.headRoll.push(roll(t) + tilt);
    let blink = 0;
    for (const b of blinks) {
      const u = (t - b.t) / b.d;
      if (u < 0 || u > 1) continue;
      // Close over the first 40 %, open over the rest.
      blink = Math.max(blink, u < 0.4 ? Math.sin((Math.PI / 2) * (u / 0.4)) : Math.cos((Math.PI / 2) * ((u - 0.4) / 0.6)));
    }
    m.blink.push(clamp(blink, 0, 1));
  }
  return m;
}
