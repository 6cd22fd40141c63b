// The 96-bit message the invisible watermark carries: the 64-bit payload followed by its 32-bit
// keyed check (HMAC-SHA256, truncated), XORed with a keyed scrambler, then convolutionally coded.
// The check is what makes detection need a match: an unmarked video decodes to some 96 bits, and
// those pass only if 32 of them equal a keyed hash of the other 64 (probability 2^-32).
// The scrambler keeps degenerate inputs (all-zero or constant correlations, e.g. a flat clip) from
// decoding to a structured message such as all zeros.
import { createHash } from 'node:crypto';
import { codedLength, convEncode } from './conv-code.js';
import { checkBits, KeyedRandom } from './keyed.js';

export const PAYLOAD_BITS = 64;
export const CHECK_BITS = 32;
export const MESSAGE_BITS = PAYLOAD_BITS + CHECK_BITS;
export const CODED_BITS = codedLength(MESSAGE_BITS);

const scrambler = (() => {
  const r = new KeyedRandom('scrambler');
  return Uint8Array.from({ length: MESSAGE_BITS }, () => (r.sign() > 0 ? 1 : 0));
})();

function toBits(v: bigint, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number((v >> BigInt(n - 1 - i)) & 1n));
}
function fromBits(bits: ArrayLike<number>, start: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 1n) | BigInt(bits[start + i]! & 1);
  return v;
}

/** Checks that a payload fits in 64 unsigned bits. */
export function assertPayload(payload: bigint): void {
  if (typeof payload !== 'bigint' || payload < 0n || payload > 0xffffffffffffffffn) throw new RangeError(`watermark payload must be a 64-bit unsigned bigint, got ${String(payload)}`);
}

/** The message bits (0/1, scrambled) for a payload. */
export function messageBits(payload: bigint): Uint8Array {
  assertPayload(payload);
  const bits = [...toBits(payload, PAYLOAD_BITS), ...toBits(BigInt(checkBits(payload)), CHECK_BITS)];
  return Uint8Array.from(bits, (b, i) => b ^ scrambler[i]!);
}

/** The coded bits (0/1) the embedder writes. */
export const codedBits = (payload: bigint): Uint8Array => convEncode(messageBits(payload));

/** Unscrambles decoded message bits; `valid` says whether the check matches the payload. */
export function readMessage(bits: Uint8Array): { payload: bigint; valid: boolean } {
  const m = Uint8Array.from(bits, (b, i) => b ^ scrambler[i]!);
  const payload = fromBits(m, 0, PAYLOAD_BITS);
  const check = Number(fromBits(m, PAYLOAD_BITS, CHECK_BITS));
  return { payload, valid: check === checkBits(payload) };
}

/** 16 lowercase hex digits. */
export const payloadHex = (p: bigint): string => BigInt.asUintN(64, p).toString(16).padStart(16, '0');

/**
 * The payload the studio writes: the high 32 bits identify the job (SHA-256 of its id), the low 32
 * bits the model (the first 8 hex digits of the model file's SHA-256, or of its name if no hash).
 */
export function payloadFor(jobId: string, modelHash: string): bigint {
  const job = BigInt(`0x${createHash('sha256').update(jobId).digest('hex').slice(0, 8)}`);
  const hex = /^[0-9a-f]{8}/i.test(modelHash) ? modelHash.slice(0, 8) : createHash('sha256').update(modelHash).digest('hex').slice(0, 8);
  return (job << 32n) | BigInt(`0x${hex}`);
}

/** The two halves of a studio payload. */
export const splitPayload = (p: bigint): { job: string; model: string } => ({ job: payloadHex(p).slice(0, 8), model: payloadHex(p).slice(8) });
