import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowSchedule, shiftSigma, SCHEDULE_PRESETS, SIGMA_MAX_UNIPC } from './schedule.js';

// Hand case N = 4, shift 5: σ' = 5σ/(1 + 4σ).
test('N=4, shift 5, σ_max 1 (DiffSynth): [1, 15/16, 5/6, 5/8, 0], timesteps σ·1000', () => {
  const s = flowSchedule({ steps: 4, shift: 5, ...SCHEDULE_PRESETS.diffSynth });
  // linspace(1, 0, 5)[:4] = 1, .75, .5, .25 → 5/5, 3.75/4, 2.5/3, 1.25/2
  const expected = [1, 0.9375, 2.5 / 3, 0.625, 0];
  assert.equal(s.sigmas.length, 5);
  expected.forEach((e, i) => assert.ok(Math.abs(s.sigmas[i]! - e) < 1e-7, `σ_${i} = ${s.sigmas[i]} ≠ ${e}`));
  [1000, 937.5, 2500 / 3, 625].forEach((e, i) => assert.ok(Math.abs(s.timesteps[i]! - e) < 1e-4, `t_${i} = ${s.timesteps[i]} ≠ ${e}`));
});

test('N=4, shift 5, official UniPC: σ_max = float32(0.999), integer (truncated) timesteps', () => {
  assert.equal(SIGMA_MAX_UNIPC, 0.9990000128746033);
  const s = flowSchedule({ steps: 4, shift: 5, ...SCHEDULE_PRESETS.wanUniPC });
  // linspace(0.999, 0, 5)[:4] = .999, .74925, .4995, .24975 (×(1 + 1.29e−8));
  // 4.995/4.996 = 0.99979984, 3.74625/3.997 = 0.93726545, 2.4975/2.998 = 0.83305537, 1.24875/1.999 = 0.62468735
  const expected = [4.995 / 4.996, 3.74625 / 3.997, 2.4975 / 2.998, 1.24875 / 1.999, 0];
  expected.forEach((e, i) => assert.ok(Math.abs(s.sigmas[i]! - e) < 1e-7, `σ_${i} = ${s.sigmas[i]} ≠ ${e}`));
  assert.deepEqual([...s.timesteps], [999, 937, 833, 624]);
  // σ is stored as float32, as the reference's torch tensors.
  for (const v of s.sigmas) assert.equal(v, Math.fround(v));
});

test('shift 1 is the plain linspace; the shift fixes 0 and 1 and pushes σ up for s > 1', () => {
  const s = flowSchedule({ steps: 5, shift: 1, sigmaMax: 1, float32Sigmas: false });
  // numpy.linspace's own arithmetic i·(−1/5) + 1, so 0.3999999999999999 and 0.19999999999999996 as numpy gives.
  assert.deepEqual([...s.sigmas], [1, 0.8, 0.6, 0.3999999999999999, 0.19999999999999996, 0]);
  assert.equal(shiftSigma(0, 7), 0);
  assert.equal(shiftSigma(1, 7), 1);
  assert.ok(shiftSigma(0.3, 3) > 0.3 && shiftSigma(0.3, 0.5) < 0.3);
});

test('a 50-step shift-5 schedule is strictly decreasing and ends at 0', () => {
  const s = flowSchedule({ steps: 50, shift: 5 });
  assert.equal(s.sigmas[50], 0);
  for (let i = 0; i < 50; i++) assert.ok(s.sigmas[i]! > s.sigmas[i + 1]!);
  assert.equal(s.timesteps.length, 50);
});

test('bad options are rejected with a message', () => {
  assert.throws(() => flowSchedule({ steps: 0, shift: 5 }), /steps must be an integer ≥ 1/);
  assert.throws(() => flowSchedule({ steps: 4, shift: 0 }), /shift must be/);
  assert.throws(() => flowSchedule({ steps: 4, shift: 5, sigmaMax: 1.5 }), /sigmaMax must be in \(0, 1\]/);
});
