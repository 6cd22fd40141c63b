import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuildError } from '../../graph/errors.js';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import { countParams } from '../inventory/types.js';
import { ditLinearModules, isLoraTarget, loraTargets, matchesTarget } from './config.js';
import { isDottedModule, kohyaModuleName, loraKeyNames, moduleFromKohya, parseLoraKey } from './formats.js';
import { initLoraAdapter, loraParams } from './hook.js';

const big = WAN22_TI2V_5B.dit;

test('default targets: q/k/v/o of self_attn and cross_attn and ffn.0/ffn.2 in every block, nothing else', () => {
  const t = loraTargets(big, { rank: 32 });
  assert.equal(t.length, 10 * 30);
  const kinds = new Set(t.map((m) => m.name.replace(/^blocks\.\d+\./, '')));
  assert.deepEqual([...kinds].sort(), ['cross_attn.k', 'cross_attn.o', 'cross_attn.q', 'cross_attn.v', 'ffn.0', 'ffn.2', 'self_attn.k', 'self_attn.o', 'self_attn.q', 'self_attn.v']);
  for (const n of ['text_embedding.0', 'time_embedding.2', 'time_projection.1', 'head.head', 'patch_embedding']) assert.equal(isLoraTarget({ rank: 4 }, n), false, n);
  const ffn0 = t.find((m) => m.name === 'blocks.29.ffn.0')!;
  assert.deepEqual([ffn0.inFeatures, ffn0.outFeatures, ffn0.rank, ffn0.alpha], [3072, 14336, 32, 32]);
});

test('rank-32 default LoRA on the 5B DiT has 80.6M parameters (reference §6)', () => {
  const n = countParams(loraParams(big, { rank: 32 }));
  assert.equal(n, 80_609_280);
  const p = loraParams(big, { rank: 32 });
  assert.deepEqual(p.slice(0, 2), [
    { name: 'blocks.0.self_attn.q.lora_A.weight', shape: [32, 3072] },
    { name: 'blocks.0.self_attn.q.lora_B.weight', shape: [3072, 32] },
  ]);
});

test('target matching: PEFT suffix strings on dot boundaries, RegExp must match the whole name', () => {
  assert.ok(matchesTarget('blocks.3.self_attn.q', ['q']));
  assert.ok(matchesTarget('blocks.3.self_attn.q', ['self_attn.q']));
  assert.ok(!matchesTarget('blocks.3.self_attn.q', ['ttn.q']), "'ttn.q' is not on a dot boundary");
  assert.ok(matchesTarget('blocks.3.ffn.0', ['0']), "'0' suffix-matches ffn.0 (PEFT semantics)");
  assert.ok(matchesTarget('blocks.3.self_attn.q', [/blocks\.\d+\.self_attn\.[qk]/]));
  assert.ok(!matchesTarget('blocks.3.self_attn.q', [/self_attn/]), 'partial regex match must not count');
  const onlySelf = loraTargets(TINY.dit, { rank: 2, targets: [/blocks\.\d+\.self_attn\.[qkvo]/] });
  assert.deepEqual(onlySelf.map((m) => m.name), ['blocks.0.self_attn.q', 'blocks.0.self_attn.k', 'blocks.0.self_attn.v', 'blocks.0.self_attn.o', 'blocks.1.self_attn.q', 'blocks.1.self_attn.k', 'blocks.1.self_attn.v', 'blocks.1.self_attn.o']);
  // The head can be targeted explicitly; patch_embedding never.
  assert.deepEqual(loraTargets(TINY.dit, { rank: 2, targets: ['head.head', 'patch_embedding'] }).map((m) => m.name), ['head.head']);
});

test('bad configs fail at build time with the field named', () => {
  assert.throws(() => loraTargets(TINY.dit, { rank: 0 }), (e: unknown) => e instanceof GraphBuildError && /rank must be a positive integer, got 0/.test(e.message));
  assert.throws(() => loraTargets(TINY.dit, { rank: 2, targets: ['qq'] }), /no linear of this DiT matches the targets \[qq\]/);
  assert.throws(() => loraTargets(TINY.dit, { rank: 2, targets: [] }), /targets is empty/);
  assert.throws(() => loraTargets(TINY.dit, { rank: 2, multiplier: NaN }), /multiplier must be a finite number/);
  assert.throws(() => loraTargets(TINY.dit, { rank: 2, modules: new Map([['blocks.7.ffn.0', { rank: 2, alpha: 2 }]]) }), /'blocks\.7\.ffn\.0' has LoRA settings but is not a LoRA target of this DiT \(2 blocks\)/);
});

test('kohya <-> dotted module names: a bijection over every linear of the 5B DiT', () => {
  const mods = ditLinearModules(big).map((m) => m.name);
  assert.equal(mods.length, 6 + 10 * 30);
  const kohya = mods.map(kohyaModuleName);
  assert.equal(new Set(kohya).size, mods.length);
  assert.equal(kohyaModuleName('blocks.12.self_attn.q'), 'lora_unet_blocks_12_self_attn_q');
  assert.equal(kohyaModuleName('blocks.0.ffn.2'), 'lora_unet_blocks_0_ffn_2');
  kohya.forEach((k, i) => assert.equal(moduleFromKohya(k), mods[i]));
  mods.forEach((m) => assert.ok(isDottedModule(m), m));
});

test('kohya names outside the grammar are refused, not guessed', () => {
  for (const bad of ['lora_unet_blocks_1_self_attn_norm_q', 'lora_unet_blocks_01_self_attn_q', 'lora_unet_blocks_1_self_attn_q_x', 'lora_unet_blocks_1_ffn_1', 'lora_unet_blocks_x_ffn_0', 'lora_unet_patch_embedding', 'lora_te_blocks_1_self_attn_q']) {
    assert.equal(moduleFromKohya(bad), null, bad);
  }
  assert.throws(() => kohyaModuleName('blocks.0.norm3'), /not a LoRA-capable linear/);
});

test('key parsing: both formats, optional .default, prefixes, alpha; unknowns return null', () => {
  const p = (k: string): string => {
    const r = parseLoraKey(k);
    return r ? `${r.prefix}|${r.module}|${r.part}|${r.style}` : 'null';
  };
  assert.equal(p('blocks.3.self_attn.q.lora_A.default.weight'), '|blocks.3.self_attn.q|A|diffsynth');
  assert.equal(p('blocks.3.cross_attn.o.lora_B.weight'), '|blocks.3.cross_attn.o|B|diffsynth');
  assert.equal(p('diffusion_model.blocks.3.ffn.0.lora_A.weight'), 'diffusion_model.|blocks.3.ffn.0|A|diffsynth');
  assert.equal(p('model.diffusion_model.blocks.3.ffn.2.lora_B.default.weight'), 'model.diffusion_model.|blocks.3.ffn.2|B|diffsynth');
  assert.equal(p('lora_unet_blocks_3_self_attn_q.lora_down.weight'), '|blocks.3.self_attn.q|A|kohya');
  assert.equal(p('lora_unet_blocks_3_ffn_0.lora_up.weight'), '|blocks.3.ffn.0|B|kohya');
  assert.equal(p('lora_unet_blocks_3_ffn_0.alpha'), '|blocks.3.ffn.0|alpha|kohya');
  assert.equal(p('blocks.3.ffn.0.alpha'), '|blocks.3.ffn.0|alpha|null');
  assert.equal(p('diffusion_model.blocks.3.ffn.0.lora_down.weight'), 'diffusion_model.|blocks.3.ffn.0|A|kohya');
  for (const k of ['blocks.3.self_attn.q.dora_scale', 'blocks.3.norm3.lora_A.weight', 'lora_unet_blocks_3_ffn_0.lora_A.weight', 'blocks.3.self_attn.q.weight', 'text_encoder.lora_A.weight']) assert.equal(p(k), 'null', k);
});

test('save key names per format', () => {
  assert.deepEqual(loraKeyNames('blocks.1.self_attn.v', 'diffsynth'), { a: 'blocks.1.self_attn.v.lora_A.default.weight', b: 'blocks.1.self_attn.v.lora_B.default.weight', alpha: null });
  assert.deepEqual(loraKeyNames('blocks.1.self_attn.v', 'diffsynth', { withDefault: false, prefix: 'diffusion_model.' }), { a: 'diffusion_model.blocks.1.self_attn.v.lora_A.weight', b: 'diffusion_model.blocks.1.self_attn.v.lora_B.weight', alpha: null });
  assert.deepEqual(loraKeyNames('blocks.1.ffn.0', 'kohya'), { a: 'lora_unet_blocks_1_ffn_0.lora_down.weight', b: 'lora_unet_blocks_1_ffn_0.lora_up.weight', alpha: 'lora_unet_blocks_1_ffn_0.alpha' });
});

test('init: A Kaiming-uniform within ±1/sqrt(in) and deterministic, B zero by default', () => {
  const a1 = initLoraAdapter(TINY.dit, { rank: 4 }, 3);
  const a2 = initLoraAdapter(TINY.dit, { rank: 4 }, 3);
  const m = a1.get('blocks.0.ffn.2')!;
  assert.deepEqual([m.rank, m.inFeatures, m.outFeatures], [4, 96, 48]);
  const bound = 1 / Math.sqrt(96);
  assert.ok(m.a.every((v) => Math.abs(v) <= bound) && m.a.some((v) => Math.abs(v) > bound / 2));
  assert.ok(m.b.every((v) => v === 0));
  assert.deepEqual(m.a, a2.get('blocks.0.ffn.2')!.a);
  assert.notDeepEqual(m.a.slice(0, 4), a1.get('blocks.1.ffn.2')!.a.slice(0, 4));
  const r = initLoraAdapter(TINY.dit, { rank: 4 }, 3, { b: 'random' }).get('blocks.0.ffn.2')!;
  assert.ok(r.b.some((v) => v !== 0));
});
