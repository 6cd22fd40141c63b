// The decision rule: a payload is reported only when its keyed check matches (and the votes agree);
// random or degenerate votes never pass; the detector is scale-independent and fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convEncode, viterbiDecode } from './conv-code.js';
import { MIN_CONFIDENCE, WatermarkDetector } from './detector.js';
import { createInvisibleEmbedder, lumaOf } from './invisible.js';
import { KeyedRandom } from './keyed.js';
import { CANONICAL } from './layout.js';
import { CODED_BITS, MESSAGE_BITS, messageBits, payloadHex, readMessage } from './message.js';
import { faceClip } from './test-clips.js';

test('random votes: the decoded check never matches (each passes with probability 2^-32)', () => {
  const r = new KeyedRandom('fp-test');
  let matched = 0;
  for (let t = 0; t < 300; t++) {
    const soft = Array.from({ length: CODED_BITS }, () => Number(r.next64() >> 11n) / 2 ** 53 - 0.5);
    if (readMessage(viterbiDecode(soft, MESSAGE_BITS)).valid) matched++;
  }
  assert.equal(matched, 0);
  // Degenerate votes (a flat video gives all zeros; constant or alternating patterns) do not pass either.
  for (const soft of [new Array(CODED_BITS).fill(0), new Array(CODED_BITS).fill(1), new Array(CODED_BITS).fill(-1), Array.from({ length: CODED_BITS }, (_, k) => (k % 2 ? 1 : -1))]) {
    assert.equal(readMessage(viterbiDecode(soft, MESSAGE_BITS)).valid, false);
  }
});

test('a perfect codeword whose check bits are wrong is rejected', () => {
  const m = messageBits(0x1234n);
  m[70] = m[70]! ^ 1; // one check bit
  const soft = Array.from(convEncode(m), (b) => 2 * b - 1);
  const dec = viterbiDecode(soft, MESSAGE_BITS);
  assert.deepEqual(dec, m, 'decoded exactly…');
  assert.equal(readMessage(dec).valid, false, '…and still rejected');
});

test('noise frames and an empty detector: nothing found', () => {
  const r = new KeyedRandom('noise-frames');
  const det = new WatermarkDetector();
  for (let f = 0; f < 10; f++) det.addFrame(Uint8Array.from({ length: CANONICAL * CANONICAL }, () => Number(r.next64() & 255n)), CANONICAL, CANONICAL);
  const res = det.result();
  assert.equal(res.found, false);
  assert.equal(res.payload, null);
  assert.ok(res.confidence < MIN_CONFIDENCE, `confidence ${res.confidence}`);
  assert.equal(new WatermarkDetector().result().found, false);
  assert.throws(() => det.addFrame(new Uint8Array(5), 4, 4), /expected 4×4/);
});

test('scale independence: frames watermarked at 320×240 are read at half size and at canonical size; speed', (t) => {
  const W = 320;
  const H = 240;
  const clip = faceClip(W, H, 6, 9);
  const emb = createInvisibleEmbedder(0xdeadbeefcafef00dn);
  const half = new WatermarkDetector();
  const full = new WatermarkDetector();
  let ms = 0;
  for (let i = 0; i < 6; i++) {
    const f = clip.frame(i * 4);
    emb.embed(f, W, H);
    const y = lumaOf(f, W, H);
    const small = new Float32Array((W / 2) * (H / 2));
    for (let yy = 0; yy < H / 2; yy++)
      for (let xx = 0; xx < W / 2; xx++) {
        const o = 2 * yy * W + 2 * xx;
        small[yy * (W / 2) + xx] = (y[o]! + y[o + 1]! + y[o + W]! + y[o + W + 1]!) / 4;
      }
    half.addFrame(small, W / 2, H / 2);
    const t0 = performance.now();
    full.addFrame(y, W, H);
    ms += performance.now() - t0;
  }
  assert.equal(half.result().payload, payloadHex(0xdeadbeefcafef00dn));
  assert.equal(full.result().payload, payloadHex(0xdeadbeefcafef00dn));
  // At CANONICAL size (what ffmpeg hands over in `refree verify`) a frame costs well under a millisecond.
  const det = new WatermarkDetector();
  const plane = new Uint8Array(CANONICAL * CANONICAL).fill(90);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) det.addFrame(plane, CANONICAL, CANONICAL);
  const perFrame = (performance.now() - t0) / 200;
  t.diagnostic(`detector: ${perFrame.toFixed(3)} ms per canonical frame, ${(ms / 6).toFixed(2)} ms per 320×240 frame (with resize)`);
  assert.ok(perFrame < 20);
});
