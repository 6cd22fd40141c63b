import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMapError, diffusersToOriginal, mapWanDitKeys, wanDitKeyNames } from './keymap.js';

test('Diffusers -> original for the renamed modules, including norm2 -> norm3 and both scale_shift_tables', () => {
  const cases: [string, string][] = [
    ['blocks.0.norm2.weight', 'blocks.0.norm3.weight'],
    ['blocks.0.norm2.bias', 'blocks.0.norm3.bias'],
    ['blocks.7.scale_shift_table', 'blocks.7.modulation'],
    ['scale_shift_table', 'head.modulation'],
    ['proj_out.weight', 'head.head.weight'],
    ['blocks.3.attn1.to_q.weight', 'blocks.3.self_attn.q.weight'],
    ['blocks.3.attn1.to_out.0.bias', 'blocks.3.self_attn.o.bias'],
    ['blocks.3.attn1.norm_k.weight', 'blocks.3.self_attn.norm_k.weight'],
    ['blocks.29.attn2.to_v.weight', 'blocks.29.cross_attn.v.weight'],
    ['blocks.29.attn2.norm_q.weight', 'blocks.29.cross_attn.norm_q.weight'],
    ['blocks.1.ffn.net.0.proj.weight', 'blocks.1.ffn.0.weight'],
    ['blocks.1.ffn.net.2.bias', 'blocks.1.ffn.2.bias'],
    ['condition_embedder.time_embedder.linear_1.weight', 'time_embedding.0.weight'],
    ['condition_embedder.time_embedder.linear_2.bias', 'time_embedding.2.bias'],
    ['condition_embedder.text_embedder.linear_1.weight', 'text_embedding.0.weight'],
    ['condition_embedder.text_embedder.linear_2.weight', 'text_embedding.2.weight'],
    ['condition_embedder.time_proj.weight', 'time_projection.1.weight'],
    ['patch_embedding.weight', 'patch_embedding.weight'],
  ];
  for (const [d, o] of cases) assert.equal(diffusersToOriginal(d), o, d);
  // Whole segments only: 'norm2x' or 'proj_outer' are not renamed.
  assert.equal(diffusersToOriginal('blocks.0.norm2x.weight'), null);
  assert.equal(diffusersToOriginal('proj_outer.weight'), null);
  assert.equal(diffusersToOriginal('rope.freqs'), null);
});

test('the canonical key list has 825 names for the 30-layer TI2V-5B DiT, in Appendix A order', () => {
  const names = wanDitKeyNames(30);
  assert.equal(names.length, 825);
  assert.equal(new Set(names).size, 825);
  assert.deepEqual(names.slice(12, 26), [
    'blocks.0.modulation',
    'blocks.0.self_attn.q.weight',
    'blocks.0.self_attn.q.bias',
    'blocks.0.self_attn.k.weight',
    'blocks.0.self_attn.k.bias',
    'blocks.0.self_attn.v.weight',
    'blocks.0.self_attn.v.bias',
    'blocks.0.self_attn.o.weight',
    'blocks.0.self_attn.o.bias',
    'blocks.0.self_attn.norm_q.weight',
    'blocks.0.self_attn.norm_k.weight',
    'blocks.0.norm3.weight',
    'blocks.0.norm3.bias',
    'blocks.0.cross_attn.q.weight',
  ]);
  assert.deepEqual(names.slice(-3), ['head.modulation', 'head.head.weight', 'head.head.bias']);
});

/** Diffusers names for a model, written out by hand (independently of the rename table). */
function diffusersNames(layers: number): string[] {
  const out = [
    'patch_embedding.weight',
    'patch_embedding.bias',
    'condition_embedder.text_embedder.linear_1.weight',
    'condition_embedder.text_embedder.linear_1.bias',
    'condition_embedder.text_embedder.linear_2.weight',
    'condition_embedder.text_embedder.linear_2.bias',
    'condition_embedder.time_embedder.linear_1.weight',
    'condition_embedder.time_embedder.linear_1.bias',
    'condition_embedder.time_embedder.linear_2.weight',
    'condition_embedder.time_embedder.linear_2.bias',
    'condition_embedder.time_proj.weight',
    'condition_embedder.time_proj.bias',
    'scale_shift_table',
    'proj_out.weight',
    'proj_out.bias',
  ];
  for (let i = 0; i < layers; i++) {
    const b = `blocks.${i}`;
    out.push(`${b}.scale_shift_table`, `${b}.norm2.weight`, `${b}.norm2.bias`);
    for (const a of ['attn1', 'attn2']) {
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) out.push(`${b}.${a}.${p}.weight`, `${b}.${a}.${p}.bias`);
      out.push(`${b}.${a}.norm_q.weight`, `${b}.${a}.norm_k.weight`);
    }
    out.push(`${b}.ffn.net.0.proj.weight`, `${b}.ffn.net.0.proj.bias`, `${b}.ffn.net.2.weight`, `${b}.ffn.net.2.bias`);
  }
  return out;
}

test('a complete Diffusers checkpoint maps onto every expected canonical name', () => {
  const expected = wanDitKeyNames(2);
  const r = mapWanDitKeys(diffusersNames(2), expected);
  assert.equal(r.layout, 'diffusers');
  assert.equal(r.prefix, '');
  assert.deepEqual(r.unknown, []);
  assert.deepEqual(r.missing, []);
  assert.equal(r.mapping.size, expected.length);
  assert.equal(r.mapping.get('blocks.1.norm3.weight'), 'blocks.1.norm2.weight');
  assert.equal(r.mapping.get('head.modulation'), 'scale_shift_table');
  assert.equal(r.mapping.get('blocks.0.modulation'), 'blocks.0.scale_shift_table');
});

test('ComfyUI prefixes are detected and stripped, for original and Diffusers names', () => {
  const expected = wanDitKeyNames(1);
  for (const prefix of ['model.diffusion_model.', 'diffusion_model.']) {
    const r = mapWanDitKeys(expected.map((k) => prefix + k), expected);
    assert.equal(r.prefix, prefix);
    assert.equal(r.layout, 'original');
    assert.deepEqual([r.unknown, r.missing], [[], []]);
    assert.equal(r.mapping.get('blocks.0.norm3.weight'), `${prefix}blocks.0.norm3.weight`);
  }
  const d = mapWanDitKeys(diffusersNames(1).map((k) => `model.diffusion_model.${k}`), expected);
  assert.equal(d.layout, 'diffusers');
  assert.equal(d.mapping.get('blocks.0.norm3.bias'), 'model.diffusion_model.blocks.0.norm2.bias');
  assert.deepEqual([d.unknown, d.missing], [[], []]);
});

test('unknown and missing keys are reported by name', () => {
  const expected = wanDitKeyNames(1);
  const keys = expected.filter((k) => k !== 'blocks.0.cross_attn.k.bias' && k !== 'head.head.weight');
  keys.push('blocks.1.self_attn.q.weight', 'vae.decoder.conv1.weight', 'blocks.0.norm1.weight');
  const r = mapWanDitKeys(keys, expected);
  assert.deepEqual(r.missing, ['blocks.0.cross_attn.k.bias', 'head.head.weight']);
  assert.deepEqual(r.unknown, ['blocks.1.self_attn.q.weight', 'vae.decoder.conv1.weight', 'blocks.0.norm1.weight']);
  // Keys outside the prefix that most keys carry are unknown too (e.g. a VAE bundled in the same file).
  const c = mapWanDitKeys([...expected.map((k) => `model.diffusion_model.${k}`), 'first_stage_model.encoder.conv1.weight'], expected);
  assert.deepEqual(c.unknown, ['first_stage_model.encoder.conv1.weight']);
  // Without an expected list, only keys no rule recognises are unknown.
  assert.deepEqual(mapWanDitKeys(['blocks.0.self_attn.q.weight', 'foo.bar']).unknown, ['foo.bar']);
});

test('mixed namings and two keys for one weight are errors', () => {
  assert.throws(
    () => mapWanDitKeys(['blocks.0.self_attn.q.weight', 'blocks.0.attn1.to_k.weight']),
    (e: Error) => e instanceof KeyMapError && /mixes original Wan names \(e\.g\. 'blocks\.0\.self_attn\.q\.weight'\) and Diffusers names/.test(e.message),
  );
  assert.throws(
    () => mapWanDitKeys(['diffusion_model.head.head.weight', 'diffusion_model.head.head.weight']),
    /keys 'diffusion_model\.head\.head\.weight' and 'diffusion_model\.head\.head\.weight' both map to 'head\.head\.weight'/,
  );
});
