// The DiT config.json as Wan ships it is accepted by --arch (official WanModel and Diffusers spellings);
// every declared architecture option with a value the engine does not implement is refused by name.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import { ManifestError, parseManifest, readArchitectureArg } from './manifest.js';
import { OfficialConfigError, ditConfigFromOfficial, isOfficialDitConfig } from './official-config.js';
import { diffusersConfigJson, officialConfigJson } from './testing/fake-wan.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-official-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Wan-AI/Wan2.2-TI2V-5B/config.json: WanModel's ConfigMixin leaves out patch_size, text_dim, qk_norm, cross_attn_norm and window_size. */
const SHIPPED_5B = {
  __name__: 'Config',
  _class_name: 'WanModel',
  _diffusers_version: '0.33.0',
  dim: 3072,
  eps: 1e-6,
  ffn_dim: 14336,
  freq_dim: 256,
  in_dim: 48,
  model_type: 'ti2v',
  num_heads: 24,
  num_layers: 30,
  out_dim: 48,
  text_len: 512,
};

function write(name: string, json: unknown): string {
  const f = path.join(root, name);
  writeFileSync(f, JSON.stringify(json));
  return f;
}

test('the shipped 5B config.json and the Diffusers transformer config both resolve to wan2.2-ti2v-5b itself', async () => {
  assert.equal(isOfficialDitConfig(SHIPPED_5B), true);
  const a = await readArchitectureArg(write('config.json', SHIPPED_5B));
  assert.equal(a.arch, WAN22_TI2V_5B);
  assert.equal(a.ditOnly, true);
  assert.equal(a.file, path.join(root, 'config.json'));
  const d = await readArchitectureArg(write('diffusers.json', diffusersConfigJson(WAN22_TI2V_5B)));
  assert.equal(d.arch, WAN22_TI2V_5B);
  assert.equal((await readArchitectureArg(write('diffusers-null.json', { ...diffusersConfigJson(WAN22_TI2V_5B), out_channels: null }))).arch, WAN22_TI2V_5B);
  // Stated defaults are accepted too (patch_size, text_dim, window_size, qk_norm, cross_attn_norm).
  const full = { ...SHIPPED_5B, patch_size: [1, 2, 2], text_dim: 4096, window_size: [-1, -1], qk_norm: true, cross_attn_norm: true };
  assert.equal((await readArchitectureArg(write('full.json', full))).arch, WAN22_TI2V_5B);
  // A custom size keeps Wan2.2's VAE and umT5 and gets a descriptive name.
  const custom = (await readArchitectureArg(write('custom.json', { ...SHIPPED_5B, dim: 1536, num_heads: 12, num_layers: 20 }))).arch;
  assert.equal(custom.name, 'wan2.2-ti2v-d1536-l20');
  assert.equal(custom.dit.heads, 12);
  assert.equal(custom.vae, WAN22_TI2V_5B.vae);
  // Our own architecture objects are still read as such.
  const own = await readArchitectureArg(write('own.json', { ...TINY, name: 'mine' }));
  assert.equal(own.ditOnly, false);
  assert.equal(own.arch.name, 'mine');
  // The tiny config as Wan would write it resolves to the known tiny DiT (VAE/umT5 default to Wan2.2's).
  assert.deepEqual(ditConfigFromOfficial(officialConfigJson(TINY), 'x'), { ...TINY.dit, modelType: 'ti2v', qkNorm: true, crossAttnNorm: true, windowSize: [-1, -1] });
});

test('unsupported option values and unknown keys are refused by their official names', async () => {
  const refuse = async (json: Record<string, unknown>, re: RegExp) => {
    await assert.rejects(readArchitectureArg(write('bad.json', json)), (e: unknown) => {
      assert.ok(e instanceof ManifestError, String(e));
      assert.match(e.message, re);
      assert.match(e.message, /bad\.json/);
      return true;
    });
  };
  await refuse({ ...SHIPPED_5B, qk_norm: false }, /qk_norm false is not supported, only true: the DiT graph always applies the RMS norm to q and k/);
  await refuse({ ...SHIPPED_5B, cross_attn_norm: false }, /cross_attn_norm false is not supported, only true/);
  await refuse({ ...SHIPPED_5B, window_size: [256, 256] }, /window_size \[256,256\] is not supported, only \[-1,-1\]: the DiT graph has global attention only/);
  await refuse({ ...SHIPPED_5B, model_type: 'i2v' }, /model_type "i2v" is not supported, only "ti2v"/);
  await refuse({ ...SHIPPED_5B, num_layers: 0 }, /"num_layers" must be a positive integer, got 0/);
  await refuse({ ...SHIPPED_5B, num_heads: 7 }, /"dim" 3072 must split into 7 heads of an even width/);
  await refuse({ ...SHIPPED_5B, rope_theta: 500 }, /unknown key "rope_theta" for a Wan WanModel config/);
  await refuse({ ...diffusersConfigJson(WAN22_TI2V_5B), qk_norm: 'rms_norm' }, /"qk_norm" "rms_norm" is not supported, only "rms_norm_across_heads"/);
  await refuse({ ...diffusersConfigJson(WAN22_TI2V_5B), image_dim: 1280 }, /"image_dim" 1280 is not supported, only null/);
  // Several problems are all listed.
  assert.throws(() => ditConfigFromOfficial({ ...SHIPPED_5B, qk_norm: false, window_size: [4, 4] }, 'c.json'), (e: unknown) => {
    assert.ok(e instanceof OfficialConfigError);
    assert.equal(e.problems.length, 2);
    return true;
  });
});

test('our architecture objects declare the same options; a value we do not implement is refused by field', () => {
  const manifest = (arch: unknown) => ({ format: 'refree-package/1', name: 'x', version: '1', architecture: arch, components: {} });
  // The 5B constant states every option explicitly and parses.
  assert.equal(WAN22_TI2V_5B.dit.qkNorm, true);
  assert.deepEqual(WAN22_TI2V_5B.vae.attnScales, []);
  parseManifest(manifest({ ...WAN22_TI2V_5B, name: 'copy' }));
  const cases: [unknown, RegExp][] = [
    [{ ...TINY, dit: { ...TINY.dit, qkNorm: false } }, /architecture\.dit\.qkNorm: qk_norm false is not supported, only true/],
    [{ ...TINY, dit: { ...TINY.dit, windowSize: [8, 8] } }, /architecture\.dit\.windowSize: window_size \[8,8\] is not supported/],
    [{ ...TINY, dit: { ...TINY.dit, modelType: 't2v' } }, /architecture\.dit\.modelType: model_type "t2v" is not supported/],
    [{ ...TINY, vae: { ...TINY.vae, attnScales: [0.25] } }, /architecture\.vae\.attnScales: attn_scales \[0\.25\] is not supported, only \[\]/],
    [{ ...TINY, t5: { ...TINY.t5, sharedPos: true } }, /architecture\.t5\.sharedPos: shared_pos true is not supported/],
    [{ ...TINY, t5: { ...TINY.t5, dimAttn: 64 } }, /architecture\.t5\.dimAttn: dim_attn 64 is not supported, only the model width \(32\)/],
  ];
  for (const [arch, re] of cases) assert.throws(() => parseManifest(manifest(arch)), re);
});
