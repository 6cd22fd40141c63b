import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_GENERATION } from '../../../engine/service/contract.js';
import { GenerationSettingsSchema } from '../../../engine/service/contract.js';
import { validateSettings } from './validate-settings.js';

test('the form finds the same bad fields as the service, in words', () => {
  assert.deepEqual(validateSettings(DEFAULT_GENERATION), {});
  const bad = { ...DEFAULT_GENERATION, steps: 0, fps: 1.5, width: 250, guidance: 30 };
  const e = validateSettings(bad);
  assert.deepEqual(Object.keys(e).sort(), ['fps', 'guidance', 'steps', 'width']);
  assert.equal(e.steps, 'Steps must be between 1 and 200');
  assert.equal(e.width, 'Width must be a multiple of 16');
  // Every value the form refuses, the service refuses too (and the other way round for these).
  for (const [k, v] of Object.entries({ steps: 0, fps: 1.5, width: 250, guidance: 30, seed: -1 })) {
    const one = { ...DEFAULT_GENERATION, [k]: v };
    assert.equal(GenerationSettingsSchema.safeParse(one).success, false, k);
    assert.ok(validateSettings(one)[k as keyof typeof one], k);
  }
});
