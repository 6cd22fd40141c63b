import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAN22_TI2V_5B } from '../config.js';
import { ditParams } from './dit.js';
import { vaeEncoderParams, vaeDecoderParams, vaeParams } from './vae.js';
import { t5Params } from './t5.js';
import { countParams } from './types.js';

// The reference counts come from instantiating the official PyTorch classes on the meta device
// (wan2.2-ti2v-5b.md §1.6, §2.4, §3).
test('Wan2.2 TI2V-5B DiT: 825 keys and 4,999,787,712 parameters', () => {
  const specs = ditParams(WAN22_TI2V_5B.dit);
  assert.equal(specs.length, 825);
  assert.equal(countParams(specs), 4_999_787_712);
  assert.equal(countParams(specs.filter((p) => p.name.startsWith('blocks.0.'))), 163_656_704);
});

test('Wan2.2 VAE: 196 keys and 704,688,668 parameters, with the appendix names and shapes', () => {
  const specs = vaeParams(WAN22_TI2V_5B.vae);
  assert.equal(specs.length, 196);
  assert.equal(countParams(specs), 704_688_668);
  const byName = new Map(specs.map((p) => [p.name, p.shape]));
  assert.deepEqual(byName.get('encoder.downsamples.1.downsamples.2.time_conv.weight'), [320, 320, 3, 1, 1]);
  assert.deepEqual(byName.get('decoder.upsamples.0.upsamples.3.time_conv.weight'), [2048, 1024, 3, 1, 1]);
  assert.deepEqual(byName.get('decoder.upsamples.3.upsamples.0.shortcut.weight'), [256, 512, 1, 1, 1]);
  assert.deepEqual(byName.get('decoder.middle.1.to_qkv.weight'), [3072, 1024, 1, 1]);
  assert.deepEqual(byName.get('decoder.head.2.weight'), [12, 256, 3, 3, 3]);
  // Encoder ~149.6M and decoder ~555M in the reference (its rounding of the split is loose).
  const enc = countParams(vaeEncoderParams(WAN22_TI2V_5B.vae));
  assert.ok(Math.abs(enc - 149.6e6) < 0.1e6, `encoder ${enc}`);
  assert.equal(enc + countParams(vaeDecoderParams(WAN22_TI2V_5B.vae)), 704_688_668);
});

test('umT5-XXL encoder: 5,680,910,336 parameters', () => {
  assert.equal(countParams(t5Params(WAN22_TI2V_5B.t5!)), 5_680_910_336);
});
