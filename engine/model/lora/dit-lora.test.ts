// The LoRA hook on the real (tiny) DiT graph, against merged weights and through the file formats.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Graph } from '../../graph/graph.js';
import { CompiledGraph } from '../../runtime/session.js';
import { TINY } from '../config.js';
import type { BuildDitOptions, DitGridSize } from '../dit/dit.js';
import { buildDitGraph } from '../dit/dit.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights, seededNormal } from '../random-weights.js';
import type { WeightEntry } from '../weight-provider.js';
import { InputWeightProvider, MapWeightProvider } from '../weight-provider.js';
import type { LoraAdapter } from './adapter.js';
import { adapterEntries, loraConfigFromAdapter } from './adapter.js';
import type { LoraConfig } from './config.js';
import { initLoraAdapter, loraHook, loraParams } from './hook.js';
import type { SaveLoraOptions } from './io.js';
import { loadLora, saveLora } from './io.js';
import { mergeLora } from './merge.js';
import { writeSafetensors } from '../weights/safetensors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-lora-dit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cfg = TINY.dit;
const base = randomWeights(ditParams(cfg), 7);
const size: DitGridSize = { batch: 1, frames: 2, h: 4, w: 4 };
const feeds = {
  latents: seededNormal(cfg.inDim * size.frames * size.h * size.w, 11, 1),
  timesteps: Float32Array.of(0, 700),
  context: seededNormal(cfg.textLen * cfg.textDim, 12, 1),
};

async function run(g: Graph, extra: Record<string, Float32Array> = {}): Promise<Float32Array> {
  const c = await CompiledGraph.fromGraph(g);
  try {
    return (await c.run({ ...feeds, ...extra })).velocity as Float32Array;
  } finally {
    await c.release();
  }
}

const velocity = (weights: ReadonlyMap<string, WeightEntry>, opts: BuildDitOptions = {}): Promise<Float32Array> =>
  run(buildDitGraph(cfg, new MapWeightProvider(weights), size, opts));

/** The DiT with the adapter applied through the hook (unmerged), A/B as initializers. */
const withHook = (adapter: LoraAdapter, multiplier: number, opts: BuildDitOptions = {}): Promise<Float32Array> =>
  velocity(base, { ...opts, linear: loraHook(loraConfigFromAdapter(adapter, multiplier), new MapWeightProvider(adapterEntries(adapter))) });

function relError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

let baseOut: Float32Array;
test('base velocity (no hook)', async () => {
  baseOut = await velocity(base);
  assert.ok(baseOut.some((v) => Math.abs(v) > 0.1));
});

// Rank 4, alpha 6 (scale 1.5), strength 0.8; A and B both random so every module matters.
const trained = initLoraAdapter(cfg, { rank: 4, alpha: 6 }, 31, { b: 'random', bStd: 0.1 });
const multiplier = 0.8;
const formats: [string, SaveLoraOptions][] = [
  ['kohya', { format: 'kohya' }],
  ['diffsynth', { format: 'diffsynth' }],
  ['diffsynth without .default', { format: 'diffsynth', withDefault: false }],
];

for (const [label, save] of formats) {
  test(`round trip (${label}): save → load → hook (unmerged) equals merged weights (no hook) to 1e-5`, async () => {
    const f = path.join(dir, `${label.replace(/\W+/g, '_')}.safetensors`);
    await saveLora(f, trained, save);
    const { adapter, unknown } = await loadLora(f, { dit: cfg, strict: true });
    assert.deepEqual(unknown, []);
    const hooked = await withHook(adapter, multiplier);
    const merged = await velocity(mergeLora(base, adapter, { multiplier }));
    const err = relError(hooked, merged);
    const effect = relError(merged, baseOut);
    console.log(`  ${label}: hook vs merged rel error ${err.toExponential(2)}; LoRA changes the velocity by ${effect.toExponential(2)} (rel)`);
    assert.ok(effect > 1e-2, `the LoRA must visibly change the output (${effect})`);
    assert.ok(err <= 1e-5, `hook vs merged: rel error ${err}`);
  });
}

test('training path: A/B as graph inputs (naive attention) gives the same velocity as merged weights', async () => {
  const loraCfg: LoraConfig = { rank: 4, alpha: 6, multiplier };
  const inputs = new InputWeightProvider();
  const g = buildDitGraph(cfg, new MapWeightProvider(base), size, { attention: 'naive', linear: loraHook(loraCfg, inputs) });
  const specs = loraParams(cfg, loraCfg);
  assert.deepEqual([...inputs.requested.keys()], specs.map((p) => p.name));
  assert.equal(specs.length, 2 * 10 * cfg.layers);
  const fed = Object.fromEntries([...adapterEntries(trained)].map(([k, e]) => [k, (e.data as { kind: 'inline'; data: Float32Array }).data]));
  const viaInputs = await run(g, fed);
  const merged = await velocity(mergeLora(base, trained, { multiplier }), { attention: 'naive' });
  const err = relError(viaInputs, merged);
  console.log(`  inputs (naive) vs merged: rel error ${err.toExponential(2)}`);
  assert.ok(err <= 1e-5, `rel error ${err}`);
});

test('B zero-initialised: the hooked DiT reproduces the base model exactly', async () => {
  const fresh = initLoraAdapter(cfg, { rank: 4, alpha: 6 }, 5);
  const out = await withHook(fresh, 1);
  let diff = 0;
  for (let i = 0; i < out.length; i++) diff = Math.max(diff, Math.abs(out[i]! - baseOut[i]!));
  console.log(`  zero-B max |hooked − base| = ${diff}`);
  assert.deepEqual(out, baseOut);
});

test('kohya alpha ≠ rank (hand-written file): the hook applies alpha/r, equal to W + (alpha/r)·B·A merged by hand', async () => {
  // One module, rank 8, alpha 2 → scale 0.25. The expected weight is computed here, not by mergeLora.
  const name = 'blocks.1.self_attn.v';
  const [rank, alpha, n] = [8, 2, cfg.dim];
  const a = seededNormal(rank * n, 41, 0.3);
  const b = seededNormal(n * rank, 42, 0.3);
  const f = path.join(dir, 'alpha.safetensors');
  await writeSafetensors(f, [
    { name: 'diffusion_model.lora_unet_blocks_1_self_attn_v.lora_down.weight', dtype: 'F32', shape: [rank, n], data: a },
    { name: 'diffusion_model.lora_unet_blocks_1_self_attn_v.lora_up.weight', dtype: 'F32', shape: [n, rank], data: b },
    { name: 'diffusion_model.lora_unet_blocks_1_self_attn_v.alpha', dtype: 'F32', shape: [], data: Float32Array.of(alpha) },
  ]);
  const { adapter, format } = await loadLora(f, { dit: cfg, strict: true });
  assert.equal(format, 'kohya');
  assert.deepEqual([adapter.get(name)!.rank, adapter.get(name)!.alpha], [rank, alpha]);
  const w = Float32Array.from((base.get(`${name}.weight`)!.data as { kind: 'inline'; data: Float32Array }).data);
  for (let o = 0; o < n; o++) for (let i = 0; i < n; i++) {
    let s = 0;
    for (let r = 0; r < rank; r++) s += b[o * rank + r]! * a[r * n + i]!;
    w[o * n + i] = w[o * n + i]! + (alpha / rank) * s;
  }
  const byHand = new Map(base);
  byHand.set(`${name}.weight`, { dtype: 'float32', shape: [n, n], data: { kind: 'inline', data: w } });
  const expected = await velocity(byHand);
  const hooked = await withHook(adapter, 1);
  const err = relError(hooked, expected);
  // Had the loader ignored alpha (scale 1 instead of 0.25), the output would be far off:
  const wrongScale = await withHook(new Map([[name, { ...adapter.get(name)!, alpha: rank }]]), 1);
  console.log(`  alpha 2 / rank 8: rel error ${err.toExponential(2)}; with scale 1 instead: ${relError(wrongScale, expected).toExponential(2)}`);
  assert.ok(relError(wrongScale, expected) > 1e-3);
  assert.ok(err <= 1e-5, `rel error ${err}`);
});
