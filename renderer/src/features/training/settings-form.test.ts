import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DPO_FIELDS, DPO_FORM_DEFAULTS, SFT_FIELDS, SFT_FORM_DEFAULTS, formFromSettings, formatDuration, formatGb, settingsFromForm } from './settings-form.js';

test('a preset fills the form, and the form gives the trainer its settings back', () => {
  const preset = { steps: 30, warmup: 3, frames: 5, lora: { rank: 2, alpha: 2, targets: ['q', 'v'] }, checkpointEvery: 5 };
  const form = formFromSettings(SFT_FORM_DEFAULTS, preset);
  assert.equal(form.rank, '2');
  assert.equal(form.steps, '30');
  assert.equal(form.warmup, '3');
  const r = settingsFromForm(SFT_FIELDS, form, { lora: preset.lora, recompute: false });
  assert.ok('settings' in r);
  assert.deepEqual(r.settings.lora, { rank: 2, alpha: 2, targets: ['q', 'v'] });
  assert.equal(r.settings.steps, 30);
  assert.equal(r.settings.recompute, false);
  assert.equal(r.settings.speechDrop, 0.1);
});

test('bad values are refused with the field named', () => {
  const bad = settingsFromForm(SFT_FIELDS, { ...SFT_FORM_DEFAULTS, steps: '2.5' });
  assert.deepEqual(bad, { error: 'Training steps: give a whole number (got 2.5).' });
  const empty = settingsFromForm(SFT_FIELDS, { ...SFT_FORM_DEFAULTS, lr: '' });
  assert.ok('error' in empty && /Learning rate/.test(empty.error));
  const order = settingsFromForm(DPO_FIELDS, { ...DPO_FORM_DEFAULTS, maskRatios: '0, 0.4, 0.2' });
  assert.ok('error' in order && /larger than the one before/.test(order.error));
  const ok = settingsFromForm(DPO_FIELDS, { ...DPO_FORM_DEFAULTS, maskRatios: '0 0.2 0.4' });
  assert.ok('settings' in ok);
  assert.deepEqual(ok.settings.maskRatios, [0, 0.2, 0.4]);
});

test('durations and sizes read as people say them', () => {
  assert.equal(formatDuration(0.2), 'less than a second');
  assert.equal(formatDuration(27.4), 'about 27 s');
  assert.equal(formatDuration(48 * 60), 'about 48 min');
  assert.equal(formatDuration(125 * 60), 'about 2 h 5 min');
  assert.equal(formatGb(4.2e6), '4 MB');
  assert.equal(formatGb(7.46e9), '7.5 GB');
});

test('the first preset offered: the CPU demo without a graphics card, else the largest that fits', async () => {
  const { defaultPreset } = await import('./presets.js');
  const est = (device: string, fits: boolean) => ({ peakBytes: 1, secondsPerStep: 1, totalSeconds: 1, availableBytes: 1, device, fits, warning: null, details: '' });
  const mk = (id: 'cpu' | 'gb8' | 'gb24', device: string, fits: boolean) => ({ id, label: id, description: '', sft: {}, dpo: {}, size: 128, estimate: est(device, fits), estimateError: null });
  const cpuOnly = [mk('cpu', "this computer's processor (24 GB of memory)", true), mk('gb8', "this computer's processor (24 GB of memory)", true), mk('gb24', "this computer's processor (24 GB of memory)", true)];
  assert.equal(defaultPreset(cpuOnly)?.id, 'cpu');
  const gpu = [mk('cpu', 'RTX 4070 (12 GB)', true), mk('gb8', 'RTX 4070 (12 GB)', true), mk('gb24', 'RTX 4070 (12 GB)', false)];
  assert.equal(defaultPreset(gpu)?.id, 'gb8');
});
