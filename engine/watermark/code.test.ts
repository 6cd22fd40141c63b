// The message and its error-correcting code: payload + keyed check, scrambling, the convolutional
// code and its soft Viterbi decoder, and the keyed layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codedLength, convEncode, viterbiDecode } from './conv-code.js';
import { checkBits, KeyedRandom } from './keyed.js';
import { CHIPS, GRID, layout } from './layout.js';
import { CODED_BITS, codedBits, MESSAGE_BITS, messageBits, payloadFor, payloadHex, readMessage, splitPayload } from './message.js';

/** Deterministic pseudo-Gaussian noise. */
function gauss(r: KeyedRandom): number {
  let s = 0;
  for (let i = 0; i < 12; i++) s += Number(r.next64() >> 11n) / 2 ** 53;
  return s - 6;
}

test('message: payload and keyed check round-trip; any change to payload or check is caught', () => {
  const p = 0xfedcba9876543210n;
  const m = messageBits(p);
  assert.equal(m.length, MESSAGE_BITS);
  assert.deepEqual(readMessage(m), { payload: p, valid: true });
  for (const i of [0, 31, 63, 64, 95]) {
    const bad = Uint8Array.from(m);
    bad[i] = bad[i]! ^ 1;
    assert.equal(readMessage(bad).valid, false, `flip of bit ${i} must fail the check`);
  }
  // The scrambler: an all-zero decode is not the all-zero payload, and it does not pass.
  const zero = readMessage(new Uint8Array(MESSAGE_BITS));
  assert.notEqual(zero.payload, 0n);
  assert.equal(zero.valid, false);
  assert.equal(readMessage(new Uint8Array(MESSAGE_BITS).fill(1)).valid, false);
  assert.notEqual(checkBits(1n), checkBits(2n));
  assert.throws(() => messageBits(1n << 64n), /64-bit unsigned/);
  assert.throws(() => messageBits(-1n), /64-bit unsigned/);
});

test('payloadFor: job half and model half', () => {
  const p = payloadFor('job-42', 'a1b2c3d4e5f6');
  assert.equal(payloadHex(p).length, 16);
  assert.equal(splitPayload(p).model, 'a1b2c3d4');
  assert.notEqual(splitPayload(payloadFor('job-43', 'a1b2c3d4')).job, splitPayload(p).job);
  // A model without a hex hash is identified by the hash of its name.
  assert.match(splitPayload(payloadFor('j', 'demo-model')).model, /^[0-9a-f]{8}$/);
});

test('convolutional code: noiseless round trip, and soft Viterbi corrects noise and erasures', () => {
  const r = new KeyedRandom('test-conv');
  const bits = Uint8Array.from({ length: MESSAGE_BITS }, () => (r.sign() > 0 ? 1 : 0));
  const c = convEncode(bits);
  assert.equal(c.length, codedLength(MESSAGE_BITS));
  assert.equal(c.length, CODED_BITS);
  assert.deepEqual(viterbiDecode(Array.from(c, (b) => 2 * b - 1), MESSAGE_BITS), bits);
  // 12% hard errors spread over the block: corrected (free distance 15).
  const soft = Array.from(c, (b) => 2 * b - 1);
  for (let k = 5; k < soft.length; k += 8) soft[k] = -soft[k]!;
  assert.deepEqual(viterbiDecode(soft, MESSAGE_BITS), bits);
  // Gaussian noise σ = 0.7 (Eb/N0 ≈ 4.8 dB, 7% of the signs wrong) and a quarter of the values erased.
  const noisy = Array.from(c, (b, k) => (k % 4 === 1 ? 0 : 2 * b - 1 + 0.7 * gauss(r)));
  assert.ok(noisy.filter((v, k) => v * (2 * c[k]! - 1) < 0).length > 10);
  assert.deepEqual(viterbiDecode(noisy, MESSAGE_BITS), bits);
  assert.throws(() => viterbiDecode([1, 2, 3], MESSAGE_BITS), /soft values/);
});

test('layout: keyed, deterministic, every coded bit gets 3 or 4 chips scattered over the frame', () => {
  assert.equal(layout.bit.length, CHIPS);
  const count = new Uint32Array(CODED_BITS);
  const rows = Array.from({ length: CODED_BITS }, () => new Set<number>());
  for (let j = 0; j < CHIPS; j++) {
    count[layout.bit[j]!] = count[layout.bit[j]!]! + 1;
    rows[layout.bit[j]!]!.add(Math.floor(j / GRID));
  }
  assert.ok(count.every((n) => n === Math.floor(CHIPS / CODED_BITS) || n === Math.ceil(CHIPS / CODED_BITS)));
  // Scattered: most bits' chips lie in different rows of the grid.
  assert.ok(rows.filter((s, k) => s.size === count[k]).length > CODED_BITS * 0.8);
  const signs = layout.sign.reduce((a, s) => a + s, 0);
  assert.ok(Math.abs(signs) < 100, `chip signs balanced (sum ${signs})`);
  // Same key, same sequence; other purpose, other sequence.
  assert.equal(new KeyedRandom('x').next64(), new KeyedRandom('x').next64());
  assert.notEqual(new KeyedRandom('x').next64(), new KeyedRandom('y').next64());
  assert.equal(codedBits(5n).length, CODED_BITS);
});
