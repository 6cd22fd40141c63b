// The VAE (Diffusers AutoencoderKLWan) and umT5 (HF UMT5EncoderModel) key maps: every 5B parameter has
// exactly one name, no two parameters share one, and the names are the ones diffusers' convert_vae_22
// and transformers' UMT5 write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAN22_TI2V_5B } from '../config.js';
import { t5Params } from '../inventory/t5.js';
import { vaeParams } from '../inventory/vae.js';
import { wanT5HfNames, wanVaeDiffusersName } from './keymap-components.js';

test('every Wan2.2 VAE parameter has one Diffusers name, and no two share it', () => {
  const names = vaeParams(WAN22_TI2V_5B.vae).map((p) => p.name);
  assert.equal(names.length, 196);
  const mapped = names.map((n) => wanVaeDiffusersName(n));
  assert.deepEqual(names.filter((_, i) => mapped[i] === null), []);
  assert.equal(new Set(mapped).size, names.length);
  // Spot checks against diffusers' scripts/convert_wan_to_diffusers.py (convert_vae_22).
  const expect: Record<string, string> = {
    'encoder.conv1.weight': 'encoder.conv_in.weight',
    'decoder.conv1.bias': 'decoder.conv_in.bias',
    'conv1.weight': 'quant_conv.weight',
    'conv2.bias': 'post_quant_conv.bias',
    'encoder.head.0.gamma': 'encoder.norm_out.gamma',
    'decoder.head.2.weight': 'decoder.conv_out.weight',
    'encoder.middle.0.residual.0.gamma': 'encoder.mid_block.resnets.0.norm1.gamma',
    'decoder.middle.2.residual.6.bias': 'decoder.mid_block.resnets.1.conv2.bias',
    'encoder.middle.1.to_qkv.weight': 'encoder.mid_block.attentions.0.to_qkv.weight',
    'encoder.downsamples.1.downsamples.0.shortcut.weight': 'encoder.down_blocks.1.resnets.0.conv_shortcut.weight',
    'encoder.downsamples.0.downsamples.1.residual.3.gamma': 'encoder.down_blocks.0.resnets.1.norm2.gamma',
    'encoder.downsamples.0.downsamples.2.resample.1.weight': 'encoder.down_blocks.0.downsampler.resample.1.weight',
    'encoder.downsamples.1.downsamples.2.time_conv.bias': 'encoder.down_blocks.1.downsampler.time_conv.bias',
    'decoder.upsamples.0.upsamples.3.time_conv.weight': 'decoder.up_blocks.0.upsampler.time_conv.weight',
    'decoder.upsamples.2.upsamples.3.resample.1.bias': 'decoder.up_blocks.2.upsampler.resample.1.bias',
    'decoder.upsamples.3.upsamples.2.residual.2.weight': 'decoder.up_blocks.3.resnets.2.conv1.weight',
  };
  for (const [from, to] of Object.entries(expect)) {
    assert.ok(names.includes(from), from);
    assert.equal(wanVaeDiffusersName(from), to);
  }
  assert.equal(wanVaeDiffusersName('encoder.unknown.weight'), null);
});

test('every umT5 parameter has its HF UMT5EncoderModel name (the embedding in both tied spellings)', () => {
  const names = t5Params(WAN22_TI2V_5B.t5!).map((p) => p.name);
  const first = names.map((n) => wanT5HfNames(n)[0]);
  assert.deepEqual(names.filter((_, i) => first[i] === undefined), []);
  assert.equal(new Set(first).size, names.length);
  assert.deepEqual(wanT5HfNames('token_embedding.weight'), ['shared.weight', 'encoder.embed_tokens.weight']);
  assert.deepEqual(wanT5HfNames('blocks.23.ffn.gate.0.weight'), ['encoder.block.23.layer.1.DenseReluDense.wi_0.weight']);
  assert.deepEqual(wanT5HfNames('blocks.0.ffn.fc1.weight'), ['encoder.block.0.layer.1.DenseReluDense.wi_1.weight']);
  assert.deepEqual(wanT5HfNames('blocks.0.ffn.fc2.weight'), ['encoder.block.0.layer.1.DenseReluDense.wo.weight']);
  assert.deepEqual(wanT5HfNames('blocks.5.pos_embedding.embedding.weight'), ['encoder.block.5.layer.0.SelfAttention.relative_attention_bias.weight']);
  assert.deepEqual(wanT5HfNames('norm.weight'), ['encoder.final_layer_norm.weight']);
  assert.deepEqual(wanT5HfNames('blocks.0.unknown.weight'), []);
});
