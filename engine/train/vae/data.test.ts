// The VAE's per-pixel loss weight: the detail weight sits on a face's edges, is measured against that
// face's own contrast (a faint face gets more, up to a cap), and leaves everything else as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETAIL_MAX_BOOST, DETAIL_REFERENCE, addDetailWeight, frameWeight } from './data.js';
import type { VaeClip } from './data.js';
import { VAE_DEFAULTS, recordedSettings } from './train.js';
import type { VaeSettings } from './train.js';

const S = 32;
/** A grey frame: `skin` everywhere, a `feature`-coloured bar (an eye, a lip line) at rows 14–17, columns 8–23. */
function face(skin: number, feature: number): Uint8Array {
  const rgb = new Uint8Array(S * S * 3).fill(skin);
  for (let y = 14; y < 18; y++) for (let x = 8; x < 24; x++) rgb.fill(feature, (y * S + x) * 3, (y * S + x) * 3 + 3);
  return rgb;
}
/** The face mask: the left three quarters of the frame. */
const mask = Float32Array.from({ length: S * S }, (_, i) => (i % S < 24 ? 1 : 0));
const meanOver = (w: Float32Array, m: Float32Array): number => w.reduce((a, v, i) => a + v * m[i]!, 0) / m.reduce((a, v) => a + v, 0);

test('the detail weight lies on the edges inside the face, averages detail × boost there, and is boosted for faint faces', () => {
  // Luma in [-1, 1] units: a bar 180 grey levels darker on a light face, 10 levels on a dark one.
  const strong = new Float32Array(S * S);
  addDetailWeight(face(220, 40), mask, S, 2, strong);
  const faint = new Float32Array(S * S);
  addDetailWeight(face(60, 50), mask, S, 2, faint);
  for (const w of [strong, faint]) {
    assert.equal(w[5 * S + 5], 0, 'flat skin far from any edge gets no detail weight');
    assert.equal(w[15 * S + 28], 0, 'outside the face nothing is added');
    assert.ok(w[13 * S + 12]! > 0 && w[18 * S + 12]! > 0, 'both sides of the bar’s edges are weighted');
  }
  // Mean edge (inside the mask) → the boost it earns, capped.
  const boostOf = (rgb: Uint8Array): number => {
    let sum = 0;
    let n = 0;
    const l = (x: number, y: number): number => rgb[(y * S + x) * 3]! / 127.5;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < 24; x++) {
        const gx = (l(Math.min(S - 1, x + 1), y) - l(Math.max(0, x - 1), y)) / 2;
        const gy = (l(x, Math.min(S - 1, y + 1)) - l(x, Math.max(0, y - 1))) / 2;
        sum += Math.hypot(gx, gy);
        n++;
      }
    return Math.min(DETAIL_MAX_BOOST, (DETAIL_REFERENCE / (sum / n)) ** 2);
  };
  assert.ok(Math.abs(meanOver(strong, mask) - 2 * boostOf(face(220, 40))) < 1e-4, `light face: mean ${meanOver(strong, mask)}`);
  assert.ok(Math.abs(meanOver(faint, mask) - 2 * boostOf(face(60, 50))) < 1e-4, `dark face: mean ${meanOver(faint, mask)}`);
  assert.equal(boostOf(face(60, 50)), DETAIL_MAX_BOOST, 'the faint face is boosted to the cap');
  assert.ok(meanOver(faint, mask) > 2 * meanOver(strong, mask), 'the faint face counts more than the strong one');
});

test('a face without edges gets no detail weight; detail 0 leaves the lip and face weights exactly as they were', () => {
  const flat = new Float32Array(S * S).fill(1);
  addDetailWeight(face(90, 90), mask, S, 3, flat);
  assert.ok(flat.every((v) => v === 1));
  const clip: VaeClip = { id: 'c', frames: [face(60, 50)], lips: [{ cx: 16, cy: 16, rx: 4, ry: 2, angle: 0 }], face: [{ cx: 12, cy: 16, rx: 10, ry: 12, angle: 0 }] };
  const plain = new Float32Array(S * S);
  frameWeight(clip, 0, S, { lip: 20, face: 2 }, plain);
  const zero = new Float32Array(S * S);
  frameWeight(clip, 0, S, { lip: 20, face: 2, detail: 0 }, zero);
  assert.deepEqual(zero, plain);
  const withDetail = new Float32Array(S * S);
  frameWeight(clip, 0, S, { lip: 20, face: 2, detail: 1 }, withDetail);
  assert.ok(withDetail.every((v, i) => v >= plain[i]!) && withDetail.some((v, i) => v > plain[i]!));
});

test('a run without a detail weight records the same settings as before the option existed', () => {
  const s = { ...VAE_DEFAULTS, vae: { zDim: 4, encDim: 4, decDim: 4, dimMult: [2, 2], numResBlocks: 1, temporalDownsample: [true], pixelPatch: 4 } } as VaeSettings;
  assert.equal('detailWeight' in recordedSettings(s), false);
  assert.equal(recordedSettings({ ...s, detailWeight: 2 }).detailWeight, 2);
  assert.equal(recordedSettings(s, 'a/vae.safetensors').init, `${process.cwd()}/a/vae.safetensors`);
});
