// Keyed randomness for the invisible watermark. Everything the embedder and the detector must agree
// on (which chip carries which coded bit, each chip's sign, the message scrambler, the check bits)
// is derived here from one public key string, so both sides compute the same layout on any machine.
// The key is not a secret (the app is open source): the watermark labels videos, it does not
// authenticate them. What the key buys is independence: the layout and the check function look
// random with respect to any video content, which is what the false-positive bound relies on
// (docs/WATERMARK.md).
import { createHash, createHmac } from 'node:crypto';

/** Version 1 of the watermark; changing it changes every layout and check. */
export const WATERMARK_KEY = 'refree-studio/invisible-watermark/v1';

/** A small, fast, deterministic generator (splitmix64 seeded from SHA-256 of key + purpose). */
export class KeyedRandom {
  private state: bigint;
  constructor(purpose: string, key = WATERMARK_KEY) {
    const h = createHash('sha256').update(`${key}\0${purpose}`).digest();
    this.state = h.readBigUInt64LE(0);
  }
  /** Next 64-bit value. */
  next64(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return z ^ (z >> 31n);
  }
  /** Uniform integer in [0, n) (n ≤ 2^32; the bias of a 64-bit modulus is negligible). */
  int(n: number): number {
    return Number(this.next64() % BigInt(n));
  }
  /** +1 or -1 with equal probability. */
  sign(): 1 | -1 {
    return (this.next64() & 1n) === 1n ? 1 : -1;
  }
  /** A keyed random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

/** The 32-bit keyed check of a 64-bit payload: the first 4 bytes of HMAC-SHA256(key, payload). */
export function checkBits(payload: bigint, key = WATERMARK_KEY): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, payload));
  return createHmac('sha256', key).update(b).digest().readUInt32BE(0);
}
