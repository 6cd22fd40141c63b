// A constraint-length-7 convolutional code with a soft-decision Viterbi decoder: the error-correcting
// code of the invisible watermark. Soft decisions matter here: the detector's per-bit correlations
// vary a lot in reliability (textured vs flat regions, compression), and Viterbi on the raw
// correlations weighs each by how sure it is. Rate 1/3 with the LTE generators (133, 171, 165 octal),
// free distance 15; the encoder is terminated with K-1 zero tail bits.
export const CONSTRAINT_LENGTH = 7;
export const GENERATORS = [0o133, 0o171, 0o165] as const;
const MEMORY = CONSTRAINT_LENGTH - 1;
const STATES = 1 << MEMORY;

function parity(x: number): number {
  x ^= x >> 4;
  x ^= x >> 2;
  x ^= x >> 1;
  return x & 1;
}

/** Output bits (one per generator) for input bit u entering the coder in state s. */
function outputs(s: number, u: number): number[] {
  const reg = (u << MEMORY) | s;
  return GENERATORS.map((g) => parity(reg & g));
}

/** Number of coded bits for n information bits (tail included). */
export const codedLength = (n: number): number => (n + MEMORY) * GENERATORS.length;

/** Encodes 0/1 bits; returns 0/1 coded bits, length codedLength(bits.length). */
export function convEncode(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(codedLength(bits.length));
  let s = 0;
  let o = 0;
  for (let i = 0; i < bits.length + MEMORY; i++) {
    const u = i < bits.length ? bits[i]! & 1 : 0;
    for (const b of outputs(s, u)) out[o++] = b;
    s = ((u << MEMORY) | s) >> 1;
  }
  return out;
}

/**
 * Maximum-likelihood decoding for Gaussian noise: the information bits whose codeword c maximises
 * Σ soft[k]·(2c[k]−1). soft[k] > 0 says "coded bit k is 1", its size says how sure.
 */
export function viterbiDecode(soft: ArrayLike<number>, nInfo: number): Uint8Array {
  const steps = nInfo + MEMORY;
  if (soft.length !== codedLength(nInfo)) throw new Error(`viterbiDecode: ${soft.length} soft values for ${nInfo} bits (want ${codedLength(nInfo)})`);
  const R = GENERATORS.length;
  // Branch outputs as ±1 for every (state, input).
  const branch: number[][][] = [];
  for (let s = 0; s < STATES; s++) branch.push([0, 1].map((u) => outputs(s, u).map((b) => 2 * b - 1)));
  let metric = new Float64Array(STATES).fill(-Infinity);
  metric[0] = 0;
  const from = new Uint8Array(steps * STATES);
  const bitIn = new Uint8Array(steps * STATES);
  for (let t = 0; t < steps; t++) {
    const next = new Float64Array(STATES).fill(-Infinity);
    const inputs = t < nInfo ? [0, 1] : [0];
    for (let s = 0; s < STATES; s++) {
      const m = metric[s]!;
      if (m === -Infinity) continue;
      for (const u of inputs) {
        const out = branch[s]![u]!;
        let bm = 0;
        for (let r = 0; r < R; r++) bm += out[r]! * soft[t * R + r]!;
        const ns = ((u << MEMORY) | s) >> 1;
        // Ties go to the lower predecessor, so the decoder is deterministic.
        if (m + bm > next[ns]!) {
          next[ns] = m + bm;
          from[t * STATES + ns] = s;
          bitIn[t * STATES + ns] = u;
        }
      }
    }
    metric = next;
  }
  // Terminated code: the path ends in state 0.
  const bits = new Uint8Array(steps);
  let s = 0;
  for (let t = steps - 1; t >= 0; t--) {
    bits[t] = bitIn[t * STATES + s]!;
    s = from[t * STATES + s]!;
  }
  return bits.slice(0, nInfo);
}
