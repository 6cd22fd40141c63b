import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TINY } from '../config.js';
import { seededNormal } from '../random-weights.js';
import { SafetensorsFile, writeSafetensors } from '../weights/safetensors.js';
import type { SafetensorsEntry } from '../weights/safetensors.js';
import { f32ToF16Bits } from '../../graph/half.js';
import type { LoraAdapter, LoraModule } from './adapter.js';
import { initLoraAdapter } from './hook.js';
import { loadLora, LoraFileError, saveLora } from './io.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-lora-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);
const cfg = TINY.dit;

/** Random nonzero A and B on every default target, rank 4, alpha as given. */
const adapter = (alpha: number): LoraAdapter => initLoraAdapter(cfg, { rank: 4, alpha }, 21, { b: 'random', bStd: 0.05 });

/** s·B·A as a dense [out, in] (what a module means, independent of how alpha is stored). */
function delta(m: LoraModule): Float64Array {
  const d = new Float64Array(m.outFeatures * m.inFeatures);
  const s = m.alpha / m.rank;
  for (let o = 0; o < m.outFeatures; o++) for (let r = 0; r < m.rank; r++) for (let i = 0; i < m.inFeatures; i++) d[o * m.inFeatures + i]! += s * m.b[o * m.rank + r]! * m.a[r * m.inFeatures + i]!;
  return d;
}

function assertSameMeaning(got: LoraAdapter, want: LoraAdapter, tol: number): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.deepEqual([g.rank, g.inFeatures, g.outFeatures], [w.rank, w.inFeatures, w.outFeatures], name);
    const dg = delta(g);
    const dw = delta(w);
    let err = 0;
    for (let i = 0; i < dg.length; i++) err = Math.max(err, Math.abs(dg[i]! - dw[i]!));
    assert.ok(err <= tol, `${name}: max |ΔW| difference ${err}`);
  }
}

test('kohya: save → load is bit-exact, alpha kept per module, format and metadata recorded', async () => {
  const ad = adapter(2);
  const { keys } = await saveLora(file('k.safetensors'), ad, { format: 'kohya' });
  assert.ok(keys.includes('lora_unet_blocks_1_cross_attn_k.lora_down.weight') && keys.includes('lora_unet_blocks_0_ffn_2.alpha'));
  assert.equal(keys.length, 3 * 20);
  const st = await SafetensorsFile.open(file('k.safetensors'));
  assert.deepEqual(st.info('lora_unet_blocks_0_ffn_2.alpha').shape, []);
  assert.deepEqual(st.info('lora_unet_blocks_0_ffn_2.lora_up.weight').shape, [48, 4]);
  await st.close();
  const got = await loadLora(file('k.safetensors'), { dit: cfg });
  assert.equal(got.format, 'kohya');
  assert.deepEqual(got.unknown, []);
  assert.equal(got.metadata.ss_network_dim, '4');
  assert.deepEqual(got.adapter, ad);
});

for (const withDefault of [true, false]) {
  test(`diffsynth (${withDefault ? 'with' : 'without'} .default): alpha = rank is bit-exact; alpha ≠ rank is folded into B`, async () => {
    const f = file(`d${withDefault}.safetensors`);
    const ad = adapter(4);
    const { keys } = await saveLora(f, ad, { format: 'diffsynth', withDefault });
    assert.equal(keys.length, 2 * 20, 'no alpha keys');
    assert.ok(keys.includes(withDefault ? 'blocks.0.self_attn.q.lora_A.default.weight' : 'blocks.0.self_attn.q.lora_A.weight'));
    const got = await loadLora(f);
    assert.equal(got.format, 'diffsynth');
    assert.deepEqual(got.adapter, ad);

    const scaled = adapter(6); // scale 1.5, not storable as alpha in this format
    await saveLora(f, scaled, { format: 'diffsynth', withDefault });
    const back = (await loadLora(f)).adapter;
    assert.equal(back.get('blocks.1.ffn.0')!.alpha, 4, 'no alpha key → alpha = rank');
    assertSameMeaning(back, scaled, 1e-7);
  });
}

test('F16/BF16 storage round-trips within half precision', async () => {
  const ad = adapter(4);
  for (const dtype of ['F16', 'BF16'] as const) {
    await saveLora(file(`h-${dtype}.safetensors`), ad, { format: 'kohya', dtype });
    const got = await loadLora(file(`h-${dtype}.safetensors`));
    const m = got.adapter.get('blocks.0.self_attn.o')!;
    const w = ad.get('blocks.0.self_attn.o')!;
    const rel = dtype === 'F16' ? 1e-3 : 8e-3;
    assert.ok(m.a.every((v, i) => Math.abs(v - w.a[i]!) <= rel * Math.abs(w.a[i]!) + 1e-7), dtype);
    assert.ok(m.a.some((v, i) => v !== w.a[i]), `${dtype} must actually round`);
  }
});

test('ComfyUI prefixes diffusion_model. and model.diffusion_model. are accepted on load, both formats', async () => {
  const ad = adapter(2);
  for (const prefix of ['diffusion_model.', 'model.diffusion_model.']) {
    for (const format of ['diffsynth', 'kohya'] as const) {
      const f = file(`p-${format}-${prefix}safetensors`);
      const { keys } = await saveLora(f, ad, { format, prefix });
      assert.ok(keys.every((k) => k.startsWith(prefix)));
      const got = await loadLora(f, { dit: cfg, strict: true });
      assert.equal(got.format, format);
      assert.deepEqual(got.prefixes, [prefix]);
      assertSameMeaning(got.adapter, ad, 1e-7);
    }
  }
});

/** Writes a LoRA file by hand (independent of saveLora). */
async function writeRaw(f: string, tensors: Record<string, { shape: number[]; data: Float32Array | Uint16Array; dtype?: 'F32' | 'F16' }>): Promise<void> {
  const entries: SafetensorsEntry[] = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data }));
  await writeSafetensors(f, entries);
}

test('unknown keys are reported by name (and thrown with strict); modules beyond the DiT count as unknown', async () => {
  const f = file('unknown.safetensors');
  const a = seededNormal(4 * 48, 1, 0.1);
  const b = seededNormal(48 * 4, 2, 0.1);
  await writeRaw(f, {
    'blocks.0.self_attn.q.lora_A.default.weight': { shape: [4, 48], data: a },
    'blocks.0.self_attn.q.lora_B.default.weight': { shape: [48, 4], data: b },
    'blocks.0.self_attn.q.dora_scale': { shape: [48], data: new Float32Array(48) },
    'text_encoder.layers.0.lora_A.weight': { shape: [4, 48], data: a },
    'blocks.7.self_attn.q.lora_A.weight': { shape: [4, 48], data: a },
    'blocks.7.self_attn.q.lora_B.weight': { shape: [48, 4], data: b },
  });
  const loose = await loadLora(f);
  assert.deepEqual(loose.unknown, ['blocks.0.self_attn.q.dora_scale', 'text_encoder.layers.0.lora_A.weight']);
  assert.deepEqual([...loose.adapter.keys()].sort(), ['blocks.0.self_attn.q', 'blocks.7.self_attn.q']);
  const forTiny = await loadLora(f, { dit: cfg });
  assert.deepEqual(forTiny.unknown, ['blocks.0.self_attn.q.dora_scale', 'blocks.7.self_attn.q.lora_A.weight', 'blocks.7.self_attn.q.lora_B.weight', 'text_encoder.layers.0.lora_A.weight']);
  assert.deepEqual([...forTiny.adapter.keys()], ['blocks.0.self_attn.q']);
  await assert.rejects(loadLora(f, { strict: true }), (e: unknown) => e instanceof LoraFileError && /2 key\(s\).*'blocks\.0\.self_attn\.q\.dora_scale', 'text_encoder\.layers\.0\.lora_A\.weight'/.test(e.message));
});

test('kohya alpha ≠ rank: alpha read from the file (F16 scalar), rank from the shapes; no alpha → rank', async () => {
  const f = file('alpha.safetensors');
  const a = seededNormal(8 * 48, 3, 0.1);
  const b = seededNormal(96 * 8, 4, 0.1);
  await writeRaw(f, {
    'lora_unet_blocks_1_ffn_0.lora_down.weight': { shape: [8, 48], data: a },
    'lora_unet_blocks_1_ffn_0.lora_up.weight': { shape: [96, 8], data: b },
    'lora_unet_blocks_1_ffn_0.alpha': { shape: [], data: Uint16Array.of(f32ToF16Bits(3)), dtype: 'F16' },
    'lora_unet_blocks_0_cross_attn_v.lora_down.weight': { shape: [2, 48], data: a.subarray(0, 96) },
    'lora_unet_blocks_0_cross_attn_v.lora_up.weight': { shape: [48, 2], data: b.subarray(0, 96) },
  });
  const got = await loadLora(f, { dit: cfg, strict: true });
  const m = got.adapter.get('blocks.1.ffn.0')!;
  assert.deepEqual([m.rank, m.alpha, m.inFeatures, m.outFeatures], [8, 3, 48, 96]);
  assert.deepEqual(m.a, a);
  const v = got.adapter.get('blocks.0.cross_attn.v')!;
  assert.deepEqual([v.rank, v.alpha], [2, 2]);
});

test('broken files fail with a sentence naming the key: mixed formats, missing partner, bad shapes, not a LoRA', async () => {
  const a = new Float32Array(4 * 48);
  await writeRaw(file('mixed.safetensors'), {
    'blocks.0.self_attn.q.lora_A.weight': { shape: [4, 48], data: a },
    'blocks.0.self_attn.q.lora_B.weight': { shape: [48, 4], data: a },
    'lora_unet_blocks_0_self_attn_k.lora_down.weight': { shape: [4, 48], data: a },
    'lora_unet_blocks_0_self_attn_k.lora_up.weight': { shape: [48, 4], data: a },
  });
  await assert.rejects(loadLora(file('mixed.safetensors')), /mixes DiffSynth\/PEFT keys \(e\.g\. 'blocks\.0\.self_attn\.q\.lora_A\.weight'\) and kohya keys/);
  await writeRaw(file('half.safetensors'), { 'lora_unet_blocks_0_self_attn_k.lora_down.weight': { shape: [4, 48], data: a } });
  await assert.rejects(loadLora(file('half.safetensors')), /'lora_unet_blocks_0_self_attn_k\.lora_down\.weight' has no matching B/);
  await writeRaw(file('rank.safetensors'), {
    'blocks.0.self_attn.q.lora_A.weight': { shape: [4, 48], data: a },
    'blocks.0.self_attn.q.lora_B.weight': { shape: [24, 8], data: a },
  });
  await assert.rejects(loadLora(file('rank.safetensors')), /'blocks\.0\.self_attn\.q': A is \[4,48\] and B is \[24,8\]/);
  await assert.rejects(loadLora(file('rank.safetensors'), { dit: cfg }), /A is \[4,48\] and B is \[24,8\]/);
  await writeRaw(file('wrongsize.safetensors'), {
    'blocks.0.self_attn.q.lora_A.weight': { shape: [4, 32], data: new Float32Array(128) },
    'blocks.0.self_attn.q.lora_B.weight': { shape: [32, 4], data: new Float32Array(128) },
  });
  await assert.rejects(loadLora(file('wrongsize.safetensors'), { dit: cfg }), /'blocks\.0\.self_attn\.q': the adapter is for a \[32,32\] weight, this DiT's is \[48,48\]/);
  await writeRaw(file('model.safetensors'), { 'blocks.0.self_attn.q.weight': { shape: [4, 48], data: a } });
  await assert.rejects(loadLora(file('model.safetensors')), /no Wan DiT LoRA tensors found.*'blocks\.0\.self_attn\.q\.weight'/);
});
