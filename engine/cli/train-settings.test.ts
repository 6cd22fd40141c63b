// `refree train sft|dpo` options that belong to one stage are read for it and refused for the other.
import assert from 'node:assert/strict';
import test from 'node:test';
import { DPO_DEFAULTS, SFT_DEFAULTS, SettingsError, validateDpo, validateSft } from '../train/settings.js';
import { settingsFromArgs } from './train.js';

test('--portrait-start and --motion-noise are SFT options', () => {
  assert.equal(settingsFromArgs({ 'portrait-start': '0.25' }, 'sft').portraitStart, 0.25);
  assert.throws(() => settingsFromArgs({ 'portrait-start': '0.25' }, 'dpo'), /--portrait-start is a SFT option/);
  assert.equal(settingsFromArgs({ 'motion-noise': '0.5' }, 'sft').motionNoise, 0.5);
  assert.throws(() => settingsFromArgs({ 'motion-noise': '0.5' }, 'dpo'), /--motion-noise is a SFT option/);
  assert.throws(() => validateSft({ ...SFT_DEFAULTS, shift: 3, motionNoise: -0.1 }), (e: unknown) => e instanceof SettingsError && /motion-frame noise must be a number ≥ 0/.test(e.message));
});

test('--sft-weight is a DPO option, and a negative weight is refused', () => {
  assert.equal(settingsFromArgs({ 'sft-weight': '0.5' }, 'dpo').sftWeight, 0.5);
  assert.throws(() => settingsFromArgs({ 'sft-weight': '0.5' }, 'sft'), /--sft-weight is a DPO option/);
  assert.throws(() => validateDpo({ ...DPO_DEFAULTS, shift: 3, sftWeight: -1 }), (e: unknown) => e instanceof SettingsError && /SFT anchor weight must be a number ≥ 0/.test(e.message));
});

test('--face-balance is an SFT option between 1 and 16; without it the settings carry no such key (the same run hash as before it existed)', () => {
  assert.equal(settingsFromArgs({ 'face-balance': '4' }, 'sft').faceBalance, 4);
  assert.throws(() => settingsFromArgs({ 'face-balance': '4' }, 'dpo'), /--face-balance is a SFT option/);
  assert.equal('faceBalance' in settingsFromArgs({}, 'sft'), false);
  assert.equal('faceBalance' in validateSft({ ...SFT_DEFAULTS, shift: 3 }), false);
  for (const bad of [0.5, 17, Number.NaN]) assert.throws(() => validateSft({ ...SFT_DEFAULTS, shift: 3, faceBalance: bad }), (e: unknown) => e instanceof SettingsError && /face balance is the most a faint face's weights are raised, between 1 and 16/.test(e.message));
});
