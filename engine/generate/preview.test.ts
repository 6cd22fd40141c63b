import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianNoise } from './noise.js';
import { fitLatentRgbProjection, latentPreview, poolRgbToLatentGrid, projectLatentFrame, uncalibratedProjection } from './preview.js';
import type { LatentRgbProjection } from './preview.js';
import { maxAbsDiff } from './flow-fields.test-helper.js';

/** A known 48→3 map: rgb_k = b_k + Σ_c W[c,k]·z_c. */
function knownProjection(C: number): LatentRgbProjection {
  const w = gaussianNoise(99, 0, C * 3);
  const weights = Float32Array.from(w, (v) => Math.fround(v * 0.05));
  return { channels: C, weights, bias: Float32Array.from([0.1, -0.2, 0.05]) };
}

test('fitLatentRgbProjection recovers a known linear map from latents and pooled RGB', () => {
  const C = 48;
  const P = 3000;
  const truth = knownProjection(C);
  const latents = gaussianNoise(1, 0, C * P); // [C, P]
  const rgb = new Float32Array(3 * P);
  const jitter = gaussianNoise(2, 0, 3 * P);
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < 3; k++) {
      let v = truth.bias[k]!;
      for (let c = 0; c < C; c++) v += truth.weights[c * 3 + k]! * latents[c * P + p]!;
      rgb[k * P + p] = v + 0.01 * jitter[k * P + p]!; // decoder nonlinearity / pooling stand-in
    }
  }
  const fit = fitLatentRgbProjection(latents, rgb, C);
  assert.ok(maxAbsDiff(fit.projection.weights, truth.weights) < 2e-3, `weights off by ${maxAbsDiff(fit.projection.weights, truth.weights)}`);
  assert.ok(maxAbsDiff(fit.projection.bias, truth.bias) < 2e-3);
  for (const r of fit.rmse) assert.ok(r > 0.008 && r < 0.012, `rmse ${fit.rmse}`);
  assert.throws(() => fitLatentRgbProjection(latents.subarray(0, C * 10), rgb.subarray(0, 30), C), /cannot determine 49 coefficients/);
});

test('projectLatentFrame applies the map to the chosen frame of [C, F, H, W]', () => {
  const [C, F, H, W] = [2, 3, 2, 2];
  const latent = Float32Array.from({ length: C * F * H * W }, (_, i) => i);
  const proj: LatentRgbProjection = { channels: 2, weights: Float32Array.from([1, 0, 0.5, 0, 1, -0.5]), bias: Float32Array.from([0, 0, 1]) };
  const out = projectLatentFrame(latent, [C, F, H, W], 1, proj);
  // frame 1: channel 0 values 4..7, channel 1 values 16..19
  assert.deepEqual([...out], [4, 5, 6, 7, 16, 17, 18, 19, 1 + 0.5 * 4 - 0.5 * 16, 1 + 0.5 * 5 - 0.5 * 17, 1 + 0.5 * 6 - 0.5 * 18, 1 + 0.5 * 7 - 0.5 * 19]);
  assert.throws(() => projectLatentFrame(latent, [C, F, H, W], 3, proj), /frame 3 is outside 0..2/);
  assert.throws(() => projectLatentFrame(latent, [C, F, H, W], 0, uncalibratedProjection(48)), /projection is for 48 channels/);
});

test('latentPreview: nearest upsampling of the projected frame to RGB8, values mapped from [-1, 1]', () => {
  const [C, F, H, W] = [1, 1, 2, 3];
  const latent = Float32Array.from([-1, 0, 1, 0.5, -2, 2]);
  const proj: LatentRgbProjection = { channels: 1, weights: Float32Array.from([1, -1, 0]), bias: Float32Array.from([0, 0, 0.2]) };
  const img = latentPreview(latent, [C, F, H, W], { projection: proj, scale: 4 });
  assert.equal(img.width, 12);
  assert.equal(img.height, 8);
  assert.equal(img.rgb.length, 12 * 8 * 3);
  const px = (x: number, y: number): number[] => [...img.rgb.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3)];
  const byte = (v: number): number => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 12; x++) {
      const z = latent[Math.floor(y / 4) * 3 + Math.floor(x / 4)]!;
      assert.deepEqual(px(x, y), [byte(z), byte(-z), byte(0.2)], `pixel ${x},${y}`);
    }
  }
  assert.deepEqual(px(0, 0), [0, 255, 153]);
  assert.deepEqual(px(4, 4), [0, 255, 153]); // z = −2 clamps
  // default: middle frame, 16× (the VAE stride)
  const big = latentPreview(new Float32Array(48 * 3 * 2 * 2), [48, 3, 2, 2], { projection: uncalibratedProjection(48) });
  assert.equal(big.width, 32);
  assert.ok(big.rgb.every((v) => v === 128));
});

test('poolRgbToLatentGrid averages factor×factor blocks into [3, h·w] in [-1, 1]', () => {
  const width = 4;
  const height = 2;
  const rgb = new Uint8Array(width * height * 3);
  // left 2×2 block: R = 0 and 255 alternating rows → mean 127.5 → 0; right block all 255
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      rgb[o] = x < 2 ? (y === 0 ? 0 : 255) : 255;
      rgb[o + 1] = 0;
      rgb[o + 2] = x < 2 ? 51 : 204;
    }
  }
  const pooled = poolRgbToLatentGrid(rgb, width, height, 2);
  const expect = [0, 1, -1, -1, 51 / 127.5 - 1, 204 / 127.5 - 1];
  assert.ok(maxAbsDiff(pooled, expect) < 1e-6, `${[...pooled]}`);
  assert.throws(() => poolRgbToLatentGrid(rgb, width, height, 3), /not a multiple of 3/);
});
