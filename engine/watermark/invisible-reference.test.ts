// The invisible embedder is written for speed (buffers kept per frame size, loops fused, the chip
// measurement done in place). A watermark must never change by a rounding, or marks made before and
// after would differ, so this file keeps the plain version — one fresh array per step, every loop on
// its own, the chips measured by layout.ts's own canonicalChipMeans — and checks that the fast one
// writes byte-for-byte the same frames and the same statistics, frame after frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisBump, canonicalChipMeans, chipProjections, CHIPS, GRID, layout, qimTarget } from './layout.js';
import { codedBits } from './message.js';
import { A_MAX, A_SMOOTH, boxMean, createInvisibleEmbedder, FLAT_STD, K_TEXTURE, lumaOf, visibilityBudget, type EmbedStats } from './invisible.js';
import { faceClip } from './test-clips.js';

// ---- The reference: the embedder as first written (its constants, arithmetic and order). ----

const HP_CLIP = 6;
const BETA_MAX = 1;
const ITERATIONS = 4;

function refBoxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    let n = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) {
      s += src[o + x]!;
      n++;
    }
    for (let x = 0; x < w; x++) {
      tmp[o + x] = s / n;
      const add = x + r + 1;
      const del = x - r;
      if (add < w) {
        s += src[o + add]!;
        n++;
      }
      if (del >= 0) {
        s -= src[o + del]!;
        n--;
      }
    }
  }
  for (let x = 0; x < w; x++) {
    let s = 0;
    let n = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) {
      s += tmp[y * w + x]!;
      n++;
    }
    for (let y = 0; y < h; y++) {
      out[y * w + x] = s / n;
      const add = y + r + 1;
      const del = y - r;
      if (add < h) {
        s += tmp[add * w + x]!;
        n++;
      }
      if (del >= 0) {
        s -= tmp[del * w + x]!;
        n--;
      }
    }
  }
  return out;
}

function refLuma(rgb: Uint8Array, w: number, h: number): Float32Array {
  const y = new Float32Array(w * h);
  for (let i = 0, p = 0; i < w * h; i++, p += 3) y[i] = 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
  return y;
}

function refBudget(luma: Float32Array, w: number, h: number): Float32Array {
  const r = Math.max(2, Math.round(Math.min(w, h) / GRID / 2));
  const blur = refBoxMean(luma, w, h, 1);
  const hp2 = new Float32Array(w * h);
  const sq = new Float32Array(w * h);
  for (let i = 0; i < hp2.length; i++) {
    const d = Math.min(HP_CLIP, Math.abs(luma[i]! - blur[i]!));
    hp2[i] = d * d;
    sq[i] = luma[i]! * luma[i]!;
  }
  const energy = refBoxMean(hp2, w, h, r);
  const mean = refBoxMean(luma, w, h, r);
  const meanSq = refBoxMean(sq, w, h, r);
  const b = new Float32Array(w * h);
  for (let i = 0; i < b.length; i++) {
    const std = Math.sqrt(Math.max(0, meanSq[i]! - mean[i]! * mean[i]!));
    const notFlat = Math.min(1, Math.max(0, (std - FLAT_STD) / (3 * FLAT_STD)));
    b[i] = notFlat * Math.min(A_MAX, A_SMOOTH + K_TEXTURE * Math.sqrt(energy[i]!));
  }
  return b;
}

function refEmbed(payload: bigint, strength: number, rgb: Uint8Array, width: number, height: number): EmbedStats {
  const coded = codedBits(payload);
  const cols = axisBump(width);
  const rows = axisBump(height);
  const luma = refLuma(rgb, width, height);
  const budget = refBudget(luma, width, height);
  const U = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const by = rows.bump[y]!;
    const rowChip = rows.chip[y]! * GRID;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      U[i] = strength * budget[i]! * layout.sign[rowChip + cols.chip[x]!]! * by * cols.bump[x]!;
    }
  }
  const host = canonicalChipMeans(luma, width, height);
  const u = canonicalChipMeans(U, width, height);
  const pHost = chipProjections(host);
  const target = Float64Array.from(pHost, (v, j) => qimTarget(v, coded[layout.bit[j]!]!));
  const gain = Float64Array.from(u, (v, j) => v * layout.sign[j]!);
  const beta = new Float64Array(CHIPS);
  const cand = new Float64Array(CHIPS);
  const p = new Float64Array(CHIPS);
  for (let it = 0; it < ITERATIONS; it++) {
    for (let j = 0; j < CHIPS; j++) cand[j] = host[j]! + beta[j]! * u[j]!;
    chipProjections(cand, p);
    for (let j = 0; j < CHIPS; j++) {
      if (gain[j]! < 1e-6) continue;
      beta[j] = Math.min(BETA_MAX, Math.max(-BETA_MAX, beta[j]! + (target[j]! - p[j]!) / gain[j]!));
    }
  }
  let betaSum = 0;
  let unreached = 0;
  for (let j = 0; j < CHIPS; j++) {
    betaSum += Math.abs(beta[j]!);
    if (Math.abs(beta[j]!) >= BETA_MAX || gain[j]! < 1e-6) unreached++;
  }
  let absSum = 0;
  for (let y = 0; y < height; y++) {
    const rowChip = rows.chip[y]! * GRID;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (U[i] === 0) continue;
      const d = beta[rowChip + cols.chip[x]!]! * U[i]!;
      absSum += Math.abs(d);
      const q = i * 3;
      for (let c = 0; c < 3; c++) {
        const v = Math.round(rgb[q + c]! + d);
        rgb[q + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { meanAbsDelta: absSum / (width * height), meanBeta: betaSum / CHIPS, unreached };
}

// ---- The material: a moving face with a flat backdrop strip and a bright textured patch. ----

/**
 * Frame i of a face-like clip (head motion, mouth, blinks) with a flat grey band across the top
 * (the budget is exactly 0 there) and a bright grainy patch at the bottom right (changes clip at 255).
 */
function movingFrames(w: number, h: number, frames: number, seed: number): Uint8Array[] {
  const clip = faceClip(w, h, frames, seed);
  return Array.from({ length: frames }, (_, i) => {
    const f = clip.frame(i);
    for (let y = 0; y < Math.floor(h / 5); y++) f.fill(128, y * w * 3, (y + 1) * w * 3);
    for (let y = Math.floor((3 * h) / 4); y < h; y++) {
      for (let x = Math.floor((3 * w) / 4); x < w; x++) {
        const v = 247 + ((x * 7 + y * 13 + i * 5) % 9);
        f.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3);
      }
    }
    return f;
  });
}

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} against reference ${b[i]}`;
  return 'none';
}

// ---- The checks. ----

test('the embedder writes byte-for-byte the frames and statistics of the plain reference, frame after frame, at several sizes', () => {
  const payload = 0x5eed5eed01234567n;
  // One embedder for all sizes, switching back and forth: buffers kept for one size must not leak
  // into the next.
  const emb = createInvisibleEmbedder(payload);
  let changedBytes = 0;
  let flatBandTouched = 0;
  for (const [w, h, frames] of [
    [256, 256, 6],
    [320, 240, 5],
    [128, 128, 2],
    [97, 61, 2],
    [256, 256, 2],
  ] as const) {
    const clip = movingFrames(w, h, frames, w + h);
    for (let i = 0; i < frames; i++) {
      const fast = Uint8Array.from(clip[i]!);
      const ref = Uint8Array.from(clip[i]!);
      const sFast = emb.embed(fast, w, h);
      const sRef = refEmbed(payload, 1, ref, w, h);
      assert.ok(bytesEqual(fast, ref), `${w}×${h} frame ${i}: first difference at ${firstDifference(fast, ref)}`);
      assert.deepEqual(sFast, sRef, `${w}×${h} frame ${i}: statistics`);
      for (let k = 0; k < fast.length; k++) if (fast[k] !== clip[i]![k]) changedBytes++;
      // The flat band, less the rows whose budget window reaches the picture below it.
      for (let k = 0; k < (Math.floor(h / 5) - 8) * w * 3; k++) if (fast[k] !== 128) flatBandTouched++;
    }
  }
  // The comparison means something only if the mark was actually written (and nothing on flat grey).
  assert.ok(changedBytes > 10000, `only ${changedBytes} bytes changed`);
  assert.equal(flatBandTouched, 0);
});

test('other strengths (a budget multiplier that is not a round number included) match the reference too', () => {
  const payload = 0x0123456789abcdefn;
  for (const strength of [0.37, 2.5, 4]) {
    const emb = createInvisibleEmbedder(payload, { strength });
    const clip = movingFrames(320, 240, 3, 11);
    for (let i = 0; i < clip.length; i++) {
      const fast = Uint8Array.from(clip[i]!);
      const ref = Uint8Array.from(clip[i]!);
      assert.deepEqual(emb.embed(fast, 320, 240), refEmbed(payload, strength, ref, 320, 240), `strength ${strength} frame ${i}: statistics`);
      assert.ok(bytesEqual(fast, ref), `strength ${strength} frame ${i}: first difference at ${firstDifference(fast, ref)}`);
    }
  }
});

test('visibilityBudget, boxMean and lumaOf return the reference values, with or without buffers passed in', () => {
  for (const [w, h] of [
    [256, 256],
    [320, 240],
    [5, 3],
  ] as const) {
    const f = movingFrames(Math.max(w, 8), Math.max(h, 8), 1, 5)[0]!.subarray(0, w * h * 3);
    const luma = refLuma(f, w, h);
    assert.deepEqual(lumaOf(f, w, h), luma);
    assert.deepEqual(lumaOf(f, w, h, new Float32Array(w * h)), luma);
    const b = refBudget(luma, w, h);
    assert.deepEqual(visibilityBudget(luma, w, h), b, `${w}×${h} budget`);
    assert.deepEqual(visibilityBudget(luma, w, h, new Float32Array(w * h).fill(7)), b, `${w}×${h} budget into a used buffer`);
    if (w > 8) assert.ok(b.some((v) => v === 0) && b.some((v) => v > A_SMOOTH), `${w}×${h}: the frame has flat and textured parts`);
    // Radii wider than the frame included (the window is clamped at the borders).
    for (const r of [1, 2, 5, 400]) {
      const m = refBoxMean(luma, w, h, r);
      assert.deepEqual(boxMean(luma, w, h, r), m, `${w}×${h} box mean r=${r}`);
      assert.deepEqual(boxMean(luma, w, h, r, new Float32Array(w * h).fill(3), new Float32Array(w * h).fill(9)), m, `${w}×${h} box mean r=${r} into used buffers`);
    }
  }
});
