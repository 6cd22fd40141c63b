import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLoraReference } from '../../graph/nn/lora.js';
import { TINY } from '../config.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights } from '../random-weights.js';
import type { WeightEntry } from '../weight-provider.js';
import type { LoraAdapter } from './adapter.js';
import { initLoraAdapter } from './hook.js';
import { mergeLora, unmergeLora } from './merge.js';

const cfg = TINY.dit;
const base = randomWeights(ditParams(cfg), 5);
const data = (e: WeightEntry | undefined): Float32Array => (e!.data as { kind: 'inline'; data: Float32Array }).data;

/** Rank 4 with random nonzero A and B on every default target. */
const adapterWithAlpha = (alpha: number): LoraAdapter => initLoraAdapter(cfg, { rank: 4, alpha }, 9, { b: 'random', bStd: 0.1 });

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('merge matches W + m·(alpha/r)·B·A (independent reference) for every module; other weights untouched', () => {
  const ad = adapterWithAlpha(2); // scale 0.5
  const merged = mergeLora(base, ad, { multiplier: 0.75 });
  assert.equal(merged.size, base.size);
  let worst = 0;
  for (const [name, m] of ad) {
    const ref = mergeLoraReference(data(base.get(`${name}.weight`)), m.a, m.b, m.outFeatures, m.inFeatures, m.rank, 0.75 * m.alpha);
    worst = Math.max(worst, maxAbsDiff(data(merged.get(`${name}.weight`)), ref));
    assert.ok(maxAbsDiff(data(merged.get(`${name}.weight`)), data(base.get(`${name}.weight`))) > 1e-3, `${name} must change`);
  }
  assert.ok(worst <= 1e-6, `max |merged − reference| ${worst}`);
  assert.equal(merged.get('blocks.0.self_attn.q.bias'), base.get('blocks.0.self_attn.q.bias'));
  assert.equal(merged.get('head.head.weight'), base.get('head.head.weight'));
  // Not in place: the base arrays are unchanged.
  assert.deepEqual(data(base.get('blocks.0.ffn.0.weight')), data(randomWeights(ditParams(cfg), 5).get('blocks.0.ffn.0.weight')));
});

test('unmerge takes the LoRA back out to within fp32 rounding; inPlace writes the same values', () => {
  const ad = adapterWithAlpha(8); // scale 2
  const merged = mergeLora(base, ad, { multiplier: 1.5 });
  const back = unmergeLora(merged, ad, { multiplier: 1.5 });
  let worst = 0;
  for (const name of ad.keys()) worst = Math.max(worst, maxAbsDiff(data(back.get(`${name}.weight`)), data(base.get(`${name}.weight`))));
  assert.ok(worst <= 1e-6, `max |unmerge(merge(W)) − W| ${worst}`);
  console.log(`  unmerge(merge(W)) max abs error ${worst.toExponential(2)}`);

  const copy = new Map([...base].map(([k, e]) => [k, { ...e, data: { kind: 'inline' as const, data: Float32Array.from(data(e)) } }]));
  const inPlace = mergeLora(copy, ad, { multiplier: 1.5, inPlace: true });
  const key = 'blocks.1.cross_attn.v.weight';
  assert.equal(data(inPlace.get(key)), data(copy.get(key)), 'in place: same array');
  assert.deepEqual(data(inPlace.get(key)), data(merged.get(key)));
});

test('merging refuses missing weights, other dtypes and mismatched shapes by name', () => {
  const ad = adapterWithAlpha(4);
  const noQ = new Map(base);
  noQ.delete('blocks.1.self_attn.q.weight');
  assert.throws(() => mergeLora(noQ, ad), /module 'blocks\.1\.self_attn\.q' but the weights have no 'blocks\.1\.self_attn\.q\.weight'/);
  const half = new Map(base);
  half.set('blocks.0.ffn.0.weight', { dtype: 'float16', shape: [96, 48], data: { kind: 'inline', data: new Uint16Array(96 * 48) } });
  assert.throws(() => mergeLora(half, ad), /'blocks\.0\.ffn\.0\.weight' must be inline float32 data/);
  const wrong = new Map(base);
  wrong.set('blocks.0.ffn.2.weight', { dtype: 'float32', shape: [48, 48], data: { kind: 'inline', data: new Float32Array(48 * 48) } });
  assert.throws(() => mergeLora(wrong, ad), /'blocks\.0\.ffn\.2\.weight' is \[48,48\], the adapter for 'blocks\.0\.ffn\.2' is \[48,96\]/);
});
