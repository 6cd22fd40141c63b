// The invisible layer on raw frames (no codec): it stays invisible (PSNR, flat grey) and the
// detector reads it back at any frame size. The codec attacks are in robustness.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawBitAccuracy, WatermarkDetector } from './detector.js';
import { boxMean, createInvisibleEmbedder, lumaOf } from './invisible.js';
import { faceClip, flatClip } from './test-clips.js';

/** PSNR (dB) over all RGB samples of pairs of frames. */
function psnr(pairs: [Uint8Array, Uint8Array][]): number {
  let se = 0;
  let n = 0;
  for (const [a, b] of pairs) {
    for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
    n += a.length;
  }
  return 10 * Math.log10((255 * 255) / (se / n));
}

function markClip(w: number, h: number, frames: number, seed: number, payload: bigint, every = 1) {
  const clip = faceClip(w, h, frames * every, seed);
  const emb = createInvisibleEmbedder(payload);
  const pairs: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < frames; i++) {
    const orig = clip.frame(i * every);
    const marked = Uint8Array.from(orig);
    emb.embed(marked, w, h);
    pairs.push([orig, marked]);
  }
  return pairs;
}

const grey = (rgb: Uint8Array, w: number, h: number) => Float32Array.from(lumaOf(rgb, w, h));

test('PSNR ≥ 42 dB on face-like frames at three sizes; the detector reads the payload from raw frames', (t) => {
  const payload = 0x5eed5eed01234567n;
  for (const [w, h] of [
    [384, 384],
    [320, 240],
    [256, 256],
  ] as const) {
    const pairs = markClip(w, h, 8, 7, payload, 5);
    const p = psnr(pairs);
    let maxAbs = 0;
    for (const [a, b] of pairs) for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    const det = new WatermarkDetector();
    for (const [, m] of pairs) det.addFrame(grey(m, w, h), w, h);
    const r = det.result();
    t.diagnostic(`${w}×${h}: PSNR ${p.toFixed(2)} dB, max |Δ| ${maxAbs}, raw coded-bit accuracy ${rawBitAccuracy(det.softValues(), payload).toFixed(4)}, confidence ${r.confidence.toFixed(3)}`);
    assert.ok(p >= 42, `PSNR ${p.toFixed(2)} dB at ${w}×${h}`);
    assert.ok(maxAbs <= 10, `max |Δ| ${maxAbs}`);
    assert.equal(r.payload, payload.toString(16).padStart(16, '0'));
    // The unmarked frames of the same clip: nothing found.
    const un = new WatermarkDetector();
    for (const [o] of pairs) un.addFrame(grey(o, w, h), w, h);
    assert.equal(un.result().found, false);
  }
});

test('flat grey: the invisible layer changes nothing at all; on grey with fine grain the pattern RMS stays below 1% contrast', (t) => {
  for (const level of [16, 128, 235]) {
    const f = flatClip(320, 240, 1, level).frame(0);
    const m = Uint8Array.from(f);
    const s = createInvisibleEmbedder(0xffffffffffffffffn).embed(m, 320, 240);
    assert.deepEqual(m, f, `flat ${level}: unchanged`);
    assert.equal(s.meanAbsDelta, 0);
  }
  // Grey 128 with fine grain (σ ≈ 1.5 levels, like sensor noise): the budget is small there. "Visible"
  // is measured as the pattern's low-frequency amplitude (the change averaged over a chip-sized
  // window, which is what the eye sees of a low-frequency pattern): its RMS must stay under 1% of the
  // grey level and its peak under 2%.
  const W = 320;
  const H = 240;
  const f = flatClip(W, H, 1, 128, 1.5).frame(0);
  const m = Uint8Array.from(f);
  createInvisibleEmbedder(0x0123456789abcdefn).embed(m, W, H);
  const d = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) d[i] = m[3 * i]! - f[3 * i]!;
  const low = boxMean(d, W, H, 2);
  let sq = 0;
  let peak = 0;
  for (const v of low) {
    sq += v * v;
    peak = Math.max(peak, Math.abs(v));
  }
  const rms = Math.sqrt(sq / low.length);
  t.diagnostic(`grain-grey: low-frequency pattern RMS ${rms.toFixed(3)} levels, peak ${peak.toFixed(2)} levels`);
  assert.ok(rms < 1.28 && peak < 2.56, `rms ${rms}, peak ${peak}`);
});

test('the embedder is deterministic and the pattern is static where the picture is', () => {
  const f = faceClip(256, 256, 1, 4).frame(0);
  const a = Uint8Array.from(f);
  const b = Uint8Array.from(f);
  const e = createInvisibleEmbedder(42n);
  e.embed(a, 256, 256);
  e.embed(b, 256, 256);
  assert.deepEqual(a, b);
  assert.throws(() => e.embed(new Uint8Array(10), 256, 256), /expected 256×256×3/);
  assert.throws(() => createInvisibleEmbedder(1n, { strength: 0 }), /strength/);
});
