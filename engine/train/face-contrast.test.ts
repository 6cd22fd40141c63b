// A faint face's regional weights: its contrast is read inside the face only (not across its outline),
// a fainter face earns a larger factor, capped, never below 1, and the factor scales only what lies
// above the `rest` weight.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { faintFaceBoost, pngFaceContrast, portraitFaceContrast } from './face-contrast.js';
import { boostedRegions } from './data.js';
import { PAPER_REGION_WEIGHTS, latentLossWeights } from './regions.js';
import { DETAIL_REFERENCE } from './vae/data.js';

const S = 32;
const G = 4; // a 4×4 latent grid: 8-pixel cells
/** Background `bg`; a face (`skin`) over cells x 0–2, y 0–3 with a `feature` bar at rows 12–15, columns 4–19. */
function portrait(bg: number, skin: number, feature: number): Uint8Array {
  const rgb = new Uint8Array(S * S * 3).fill(bg);
  for (let y = 0; y < S; y++) for (let x = 0; x < 24; x++) rgb.fill(skin, (y * S + x) * 3, (y * S + x) * 3 + 3);
  for (let y = 12; y < 16; y++) for (let x = 4; x < 20; x++) rgb.fill(feature, (y * S + x) * 3, (y * S + x) * 3 + 3);
  return rgb;
}
/** Cells x 0–1 wholly inside the face, x 2 half covered (the outline's cells), x 3 outside. */
const faceMask = Float32Array.from({ length: G * G }, (_, i) => [1, 1, 0.5, 0][i % G]!);

test('the contrast is the mean luma gradient over the cells wholly inside the face', () => {
  // The bar's edges lie in cells x 0–2; only x 0–1 count. Columns 4–15 of rows 11–16 see the bar's
  // top/bottom edges (|Δ|/2 per pixel on rows 11, 12, 15, 16), columns 3–4 its left end.
  const light = portraitFaceContrast(portrait(0, 200, 40), S, faceMask, G, G);
  const dark = portraitFaceContrast(portrait(0, 70, 55), S, faceMask, G, G);
  assert.ok(light > 0 && dark > 0);
  assert.ok(Math.abs(light / dark - 160 / 15) < 1e-6, `the contrast scales with the feature's difference from the skin: ${light} / ${dark}`);
  // The outline against a black background (column 23/24) lies in cells x 2–3 and changes nothing.
  assert.equal(portraitFaceContrast(portrait(255, 200, 40), S, faceMask, G, G), light);
});

test('a fainter face earns a larger factor, between 1 and the cap', () => {
  assert.equal(faintFaceBoost(DETAIL_REFERENCE * 2, 4), 1, 'a face with more contrast than the reference is not lowered');
  assert.equal(faintFaceBoost(DETAIL_REFERENCE, 4), 1);
  assert.ok(Math.abs(faintFaceBoost(DETAIL_REFERENCE / Math.SQRT2, 4) - 2) < 1e-9);
  assert.equal(faintFaceBoost(DETAIL_REFERENCE / 10, 4), 4, 'capped');
  assert.equal(faintFaceBoost(0, 4), 1, 'a flat face has nothing to raise');
});

test('the factor scales the face and lip weights above rest; the clean reference frames stay 0', () => {
  const r = boostedRegions(PAPER_REGION_WEIGHTS, 3);
  assert.deepEqual(r, { rest: 1, face: 1 + 29 * 3, lip: 1 + 99 * 3 });
  assert.equal(boostedRegions(PAPER_REGION_WEIGHTS, 1), PAPER_REGION_WEIGHTS);
  const lip = Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1]);
  const face = Float32Array.from([1, 1, 0, 1, 1, 1, 0, 1]);
  assert.deepEqual([...latentLossWeights(lip, face, 2, 4, r, 1)], [0, 0, 0, 0, 88, 88, 1, 298]);
});

test('the contrast of a prepared portrait is read from its PNG; a portrait that does not fit the mask is refused', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'face-contrast-'));
  try {
    const file = path.join(dir, 'ref.png');
    const rgb = portrait(0, 200, 40);
    await writeFile(file, await sharp(Buffer.from(rgb), { raw: { width: S, height: S, channels: 3 } }).png().toBuffer());
    assert.equal(await pngFaceContrast(file, faceMask, G, G), portraitFaceContrast(rgb, S, faceMask, G, G));
    assert.throws(() => portraitFaceContrast(rgb, S, faceMask, 3, 3), /does not tile/);
    assert.throws(() => portraitFaceContrast(rgb.subarray(3), S, faceMask, G, G), /RGB portrait/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
