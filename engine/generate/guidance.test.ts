import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineGuidance, guidancePlan } from './guidance.js';

const c = Float32Array.from([3, -1, 0.25]); // speech + text
const na = Float32Array.from([2, 1, 0.5]); // text only
const u = Float32Array.from([0.5, 0, -0.5]); // neither

test('guidance 1 is a single conditional pass', () => {
  const plan = guidancePlan({ audio: 1 });
  assert.deepEqual(plan.branches.map((b) => b.name), ['cond']);
  assert.deepEqual([...combineGuidance({ audio: 1 }, [c])], [...c]);
});

test('audio CFG: v = v_noAudio + g·(v_cond − v_noAudio); the unconditional pass masks only the speech', () => {
  const plan = guidancePlan({ audio: 4 });
  assert.deepEqual(plan.branches, [
    { name: 'cond', audio: true, text: true },
    { name: 'noAudio', audio: false, text: true },
  ]);
  const v = combineGuidance({ audio: 4 }, [c, na]);
  assert.deepEqual([...v], [2 + 4 * (3 - 2), 1 + 4 * (-1 - 1), 0.5 + 4 * (0.25 - 0.5)]);
});

test('jointUncond (Wan-S2V): the unconditional pass drops speech and text', () => {
  const plan = guidancePlan({ audio: 4.5, jointUncond: true });
  assert.deepEqual(plan.branches.map((b) => [b.name, b.audio, b.text]), [['cond', true, true], ['uncond', false, false]]);
  const v = combineGuidance({ audio: 4.5, jointUncond: true }, [c, u]);
  assert.deepEqual([...v], [0.5 + 4.5 * 2.5, 0 + 4.5 * -1, -0.5 + 4.5 * 0.75]);
});

test('audio + text (FantasyTalking form): v = u + g_t·(noAudio − u) + g_a·(cond − noAudio), 3 passes', () => {
  const opts = { audio: 5, text: 3 };
  const plan = guidancePlan(opts);
  assert.deepEqual(plan.branches.map((b) => b.name), ['cond', 'noAudio', 'uncond']);
  const v = combineGuidance(opts, [c, na, u]);
  const expect = [0, 1, 2].map((k) => u[k]! + 3 * (na[k]! - u[k]!) + 5 * (c[k]! - na[k]!));
  assert.ok(v.every((x, k) => Math.abs(x - expect[k]!) < 1e-6), `${[...v]} vs ${expect}`);
  // the plan's weights are the same linear combination
  const viaWeights = [0, 1, 2].map((k) => plan.weights[0]! * c[k]! + plan.weights[1]! * na[k]! + plan.weights[2]! * u[k]!);
  assert.ok(viaWeights.every((x, k) => Math.abs(x - expect[k]!) < 1e-6));
  // all scales 1 → the conditional output
  assert.deepEqual([...combineGuidance({ audio: 1, text: 1 }, [c])], [...c]);
});

test('non-finite model output or a wrong pass count is an error that names the pass', () => {
  assert.throws(() => combineGuidance({ audio: 2 }, [c, Float32Array.from([1, NaN, 0])]), /non-finite velocities \(pass noAudio\)/);
  assert.throws(() => combineGuidance({ audio: 2 }, [c]), /expected 2 outputs, got 1/);
  assert.throws(() => combineGuidance({ audio: 2 }, [c, Float32Array.from([1])]), /has 1 elements, expected 3/);
});
