// Classifier-free guidance on the speech (and optionally the text) for one sampler step.
//
// Passes (each one DiT forward; the portrait / frame-0 latent is kept in all of them, as Wan's TI2V):
//   cond    — speech + positive text
//   noAudio — speech masked, positive text
//   uncond  — speech masked, negative/empty text
// Combinations:
//   audio g_a only (default, 2 passes):  v = v_noAudio + g_a·(v_cond − v_noAudio)
//     the "unconditional" pass masks only the speech, so g_a scales exactly the speech's effect.
//   jointUncond (2 passes, Wan-S2V style: uncond = negative text + audio × 0):
//                                        v = v_uncond + g_a·(v_cond − v_uncond)
//   audio g_a + text g_t (3 passes, FantasyTalking's form; OmniAvatar / InfiniteTalk are alike):
//                                        v = v_uncond + g_t·(v_noAudio − v_uncond) + g_a·(v_cond − v_noAudio)
//     i.e. text guidance measured without speech, speech guidance on top of the text.
//   g_a = 1 and no text guidance: one pass, v = v_cond.
// Scales of 1 reduce each formula to v_cond, but a pass whose scale is 1 is only skipped where the
// formula no longer needs it (g_a = 1 without text; g_t = 1 falls back to the 2-pass audio form).
import type { GuidanceBranch } from './types.js';

export interface GuidanceOptions {
  /** Speech guidance scale g_a (1 = off). */
  audio: number;
  /** Text guidance scale g_t; undefined or 1 = no separate text guidance (no third pass). */
  text?: number;
  /** With audio guidance only: make the unconditional pass drop the text too (Wan-S2V). Default false. */
  jointUncond?: boolean;
}

export const BRANCHES = {
  cond: { name: 'cond', audio: true, text: true },
  noAudio: { name: 'noAudio', audio: false, text: true },
  uncond: { name: 'uncond', audio: false, text: false },
} as const satisfies Record<string, GuidanceBranch>;

export interface GuidancePlan {
  /** Passes to run, in this order. */
  branches: GuidanceBranch[];
  /** Weights w_p with v = Σ_p w_p·v_p (same order as branches). */
  weights: number[];
}

/** Which passes a step needs and how to combine them. */
export function guidancePlan(opts: GuidanceOptions): GuidancePlan {
  const ga = opts.audio;
  const gt = opts.text ?? 1;
  if (!Number.isFinite(ga) || !Number.isFinite(gt)) throw new RangeError(`guidance scales must be finite (audio ${ga}, text ${gt})`);
  if (gt !== 1) {
    // u + g_t(na − u) + g_a(c − na) = g_a·c + (g_t − g_a)·na + (1 − g_t)·u
    return { branches: [BRANCHES.cond, BRANCHES.noAudio, BRANCHES.uncond], weights: [ga, gt - ga, 1 - gt] };
  }
  if (ga === 1) return { branches: [BRANCHES.cond], weights: [1] };
  const other = opts.jointUncond ? BRANCHES.uncond : BRANCHES.noAudio;
  return { branches: [BRANCHES.cond, other], weights: [ga, 1 - ga] };
}

/**
 * Σ_p w_p·v_p in float64 per element, rounded to float32 once. Written as differences (the formulas
 * above) rather than raw weights so a large g does not amplify the rounding of nearly equal outputs.
 * Throws if any output has the wrong length or a non-finite value (a broken model pass should stop
 * the job with a message, not produce a black video).
 */
export function combineGuidance(opts: GuidanceOptions, outputs: readonly Float32Array[], where = 'guidance'): Float32Array {
  const plan = guidancePlan(opts);
  if (outputs.length !== plan.branches.length) throw new RangeError(`${where}: expected ${plan.branches.length} outputs, got ${outputs.length}`);
  const n = outputs[0]!.length;
  outputs.forEach((o, p) => {
    if (o.length !== n) throw new RangeError(`${where}: output of pass '${plan.branches[p]!.name}' has ${o.length} elements, expected ${n}`);
  });
  const out = new Float32Array(n);
  const ga = opts.audio;
  const gt = opts.text ?? 1;
  let bad = false;
  if (plan.branches.length === 1) {
    out.set(outputs[0]!);
    for (let k = 0; k < n; k++) if (!Number.isFinite(out[k]!)) bad = true;
  } else if (plan.branches.length === 2) {
    const c = outputs[0]!;
    const u = outputs[1]!;
    for (let k = 0; k < n; k++) {
      const uk = u[k]!;
      const val = uk + ga * (c[k]! - uk);
      if (!Number.isFinite(val)) bad = true;
      out[k] = val;
    }
  } else {
    const c = outputs[0]!;
    const na = outputs[1]!;
    const u = outputs[2]!;
    for (let k = 0; k < n; k++) {
      const uk = u[k]!;
      const nak = na[k]!;
      const val = uk + gt * (nak - uk) + ga * (c[k]! - nak);
      if (!Number.isFinite(val)) bad = true;
      out[k] = val;
    }
  }
  if (bad) {
    const which = outputs.map((o, p) => (o.some((x) => !Number.isFinite(x)) ? plan.branches[p]!.name : null)).filter((x) => x !== null);
    throw new RangeError(`${where}: the model returned non-finite velocities (pass ${which.join(', ') || 'combination overflow'})`);
  }
  return out;
}
