// Counter-based seeded Gaussian noise: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC'11 — the generator behind cuRAND's and JAX's) + Box–Muller.
//
// Element i of (seed, stream) comes from the Philox block with
//   key     = (seed mod 2^32, ⌊seed / 2^32⌋)
//   counter = (⌊i/4⌋ mod 2^32, ⌊i/4⌋ / 2^32, stream mod 2^32, ⌊stream / 2^32⌋)
// whose four 32-bit words u0..u3 become four normals by Box–Muller on (u0, u1) and (u2, u3);
// element i takes normal i mod 4. So a value depends only on (seed, stream, i): any slice can be
// generated alone (offset), a chunk of a long video regenerates its noise from its own stream (the
// chunk index) without generating the chunks before it, and a seed reproduces the noise bit for bit.
// Uniforms are (u + 0.5)/2^32 ∈ (0, 1), so |n| ≤ √(−2 ln 2^−33) ≈ 6.76 (tails beyond that are cut; the
// probability of such a value is ~1e−11). Math.log/cos/sin are V8's fdlibm ports: deterministic.
// seed, stream and indices are non-negative integers below 2^53.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;
const TWO32 = 4294967296;
const INV32 = 1 / TWO32;
const TWO_PI = 2 * Math.PI;

/** High 32 bits of the 64-bit product a·b (a = aLo + aHi·2^16 a constant), exact in float64 pieces. */
function mulhi(aLo: number, aHi: number, b: number): number {
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aHi * bHi + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Philox-4x32 with 10 rounds: writes the 4 output words to `out`. All inputs are uint32. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0_LO, M0_HI, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1_LO, M1_HI, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

function checkUint53(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`gaussianNoise: ${what} must be an integer in [0, 2^53) (got ${v})`);
}

/**
 * Standard normal noise for elements [offset, offset + count) of (seed, stream), as float32.
 * Writes into `out` (length ≥ count) when given.
 */
export function gaussianNoise(seed: number, stream: number, count: number, offset = 0, out?: Float32Array): Float32Array {
  checkUint53('seed', seed);
  checkUint53('stream', stream);
  checkUint53('count', count);
  checkUint53('offset', offset);
  checkUint53('offset + count', offset + count);
  const dst = out ?? new Float32Array(count);
  if (dst.length < count) throw new RangeError(`gaussianNoise: output has ${dst.length} elements, need ${count}`);
  const key0 = seed >>> 0;
  const key1 = Math.floor(seed / TWO32) >>> 0;
  const s0 = stream >>> 0;
  const s1 = Math.floor(stream / TWO32) >>> 0;
  const words = new Uint32Array(4);
  const normals = new Float64Array(4);
  // One Philox block → 4 normals (Box–Muller on word pairs).
  const blockNormals = (block: number, into: Float64Array | Float32Array, at: number): void => {
    philox4x32(block >>> 0, Math.floor(block / TWO32) >>> 0, s0, s1, key0, key1, words);
    let r = Math.sqrt(-2 * Math.log((words[0]! + 0.5) * INV32));
    let th = TWO_PI * ((words[1]! + 0.5) * INV32);
    into[at] = r * Math.cos(th);
    into[at + 1] = r * Math.sin(th);
    r = Math.sqrt(-2 * Math.log((words[2]! + 0.5) * INV32));
    th = TWO_PI * ((words[3]! + 0.5) * INV32);
    into[at + 2] = r * Math.cos(th);
    into[at + 3] = r * Math.sin(th);
  };

  let i = 0;
  let block = Math.floor(offset / 4);
  const lane = offset % 4;
  if (lane !== 0 && count > 0) {
    // Head: the tail end of a block that starts before `offset`.
    blockNormals(block++, normals, 0);
    const take = Math.min(4 - lane, count);
    for (let j = 0; j < take; j++) dst[j] = normals[lane + j]!;
    i = take;
  }
  // Whole blocks straight into the output (the hot path).
  for (; i + 4 <= count; i += 4) blockNormals(block++, dst, i);
  if (i < count) {
    blockNormals(block, normals, 0);
    for (let j = 0; i < count; j++, i++) dst[i] = normals[j]!;
  }
  return dst;
}
