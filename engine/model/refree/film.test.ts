import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { CompiledGraph } from '../../runtime/session.js';
import { seededValues } from '../../exec/gradcheck.js';
import { TINY } from '../config.js';
import { buildDitGraph } from '../dit/dit.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights } from '../random-weights.js';
import { MapWeightProvider } from '../weight-provider.js';
import type { WeightEntry } from '../weight-provider.js';
import { REFREE_TINY } from './config.js';
import type { ReFreeConfig } from './config.js';
import { makeInjector } from './injector.js';
import { buildReFreeGraph } from './model.js';
import { refreeInitWeights, refreeParams } from './params.js';
import { runOnce } from '../../exec/run-once.js';

const run = (g: Graph, feeds: Record<string, Float32Array>) => runOnce(g, feeds) as Promise<Record<string, Float32Array>>;

const B = 2;
const F = 3;
const S = 4;
const dim = REFREE_TINY.dim;
const D = REFREE_TINY.hidden;

const inline = (e: WeightEntry): Float32Array => (e.data as { kind: 'inline'; data: Float32Array }).data;

/** x [B, F·S, dim] and speech → injector(block) output, for a given config and weights. */
function injectGraph(c: ReFreeConfig, weights: Map<string, WeightEntry>, speechShape: number[], block = 0): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', [B, F * S, dim]);
  const speech = g.input('speech', 'float32', speechShape);
  g.output(makeInjector(c, new MapWeightProvider(weights))(block, x, { frames: F, tokensPerFrame: S, speech }), 'y');
  return g;
}

const x = Float32Array.from(seededValues(B * F * S * dim, 21, -3, 3));

test('FiLM at identity init (zero film weights) leaves every token exactly unchanged', async () => {
  const w = refreeInitWeights(REFREE_TINY, 1);
  assert.ok(inline(w.get('refree.blocks.0.film.weight')!).every((v) => v === 0));
  for (const shape of [[B, REFREE_TINY.levels, F, D], [B, F, D]]) {
    const y = (await run(injectGraph(REFREE_TINY, w, shape), { x, speech: Float32Array.from(seededValues(shape.reduce((a, b) => a * b), 4, -2, 2)) })).y!;
    assert.deepEqual(y, x);
  }
});

test('FiLM with nonzero γ/β: x·(1+γ_f)+β_f per head slice, and only frame f moves with frame f\'s speech', async () => {
  // Random (nonzero) film weights; the summary is fed directly ([B, F, D]) so γ/β are computed here too.
  const w = randomWeights(refreeParams(REFREE_TINY), 3, 1);
  const g = injectGraph(REFREE_TINY, w, [B, F, D], 1);
  const cg = await CompiledGraph.fromGraph(g);
  const s0 = Float32Array.from(seededValues(B * F * D, 8));
  const y0 = (await cg.run({ x, speech: s0 })).y as Float32Array;
  const W = inline(w.get('refree.blocks.1.film.weight')!);
  const bias = inline(w.get('refree.blocks.1.film.bias')!);
  let maxErr = 0;
  let maxMove = 0;
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) {
    const gb = Array.from({ length: 2 * dim }, (_, r) => bias[r]! + Array.from({ length: D }, (_, k) => W[r * D + k]! * s0[(b * F + f) * D + k]!).reduce((a, v) => a + v, 0));
    for (let t = 0; t < S; t++) for (let ch = 0; ch < dim; ch++) {
      const i = ((b * F + f) * S + t) * dim + ch;
      const want = x[i]! * (1 + gb[ch]!) + gb[dim + ch]!;
      maxErr = Math.max(maxErr, Math.abs(y0[i]! - want));
      maxMove = Math.max(maxMove, Math.abs(y0[i]! - x[i]!));
    }
  }
  assert.ok(maxErr < 1e-4, `FiLM formula error ${maxErr}`);
  assert.ok(maxMove > 0.1, 'nonzero γ/β must move the tokens');
  // Change the speech of (batch 1, frame 1) only: exactly that frame's S tokens change.
  const s1 = Float32Array.from(s0);
  for (let k = 0; k < D; k++) s1[(1 * F + 1) * D + k]! += 0.7;
  const y1 = (await cg.run({ x, speech: s1 })).y as Float32Array;
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) {
    let d = 0;
    for (let j = 0; j < S * dim; j++) d = Math.max(d, Math.abs(y1[((b * F + f) * S) * dim + j]! - y0[((b * F + f) * S) * dim + j]!));
    if (b === 1 && f === 1) assert.ok(d > 1e-2, `frame (1,1) must follow its speech (${d})`);
    else assert.equal(d, 0, `frame (${b},${f}) must not change`);
  }
  await cg.release();
  assert.throws(() => injectGraph(REFREE_TINY, w, [B, F + 1, D]), (e: unknown) => e instanceof ShapeError && /FiLM.*one summary per latent frame/.test(e.message));
});

test('blocks outside injectBlocks are left alone (no nodes, same tensor)', () => {
  const c = { ...REFREE_TINY, injectBlocks: [1] };
  const g = new Graph();
  const xt = g.input('x', 'float32', [B, F * S, dim]);
  const speech = g.input('speech', 'float32', [B, c.levels, F, D]);
  const inj = makeInjector(c, new MapWeightProvider(refreeInitWeights(c, 1)));
  assert.equal(inj(0, xt, { frames: F, tokensPerFrame: S, speech }), xt);
  assert.notEqual(inj(1, xt, { frames: F, tokensPerFrame: S, speech }), xt);
});

test('cross-attention variant: identity at init; trained, frame f attends only to frame f\'s window', async () => {
  const c: ReFreeConfig = { ...REFREE_TINY, mode: 'cross-attention' };
  const Wn = 16;
  const shape = [B, c.levels, F, Wn, D];
  const s0 = Float32Array.from(seededValues(shape.reduce((a, b) => a * b), 6));
  const y = (await run(injectGraph(c, refreeInitWeights(c, 2), shape), { x, speech: s0 })).y!;
  assert.deepEqual(y, x);
  const cg = await CompiledGraph.fromGraph(injectGraph(c, randomWeights(refreeParams(c), 5, 1), shape));
  const y0 = (await cg.run({ x, speech: s0 })).y as Float32Array;
  const s1 = Float32Array.from(s0);
  // Level 2, batch 0, frame 2, window token 9 changes.
  for (let k = 0; k < D; k++) s1[((((0 * c.levels + 2) * F + 2) * Wn) + 9) * D + k]! += 1;
  const y1 = (await cg.run({ x, speech: s1 })).y as Float32Array;
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) {
    let d = 0;
    for (let j = 0; j < S * dim; j++) d = Math.max(d, Math.abs(y1[((b * F + f) * S) * dim + j]! - y0[((b * F + f) * S) * dim + j]!));
    if (b === 0 && f === 2) assert.ok(d > 1e-3, `frame (0,2) must follow its window (${d})`);
    else assert.equal(d, 0, `frame (${b},${f}) must not change`);
  }
  await cg.release();
});

test('the tiny DiT with the untrained ReFree adapter gives exactly the plain DiT\'s velocity', async () => {
  const dit = TINY.dit;
  const size = { batch: 1, frames: 2, h: 4, w: 4 };
  const weights = new Map([...randomWeights(ditParams(dit), 7), ...refreeInitWeights(REFREE_TINY, 9)]);
  const feeds = {
    latents: Float32Array.from(seededValues(dit.inDim * 2 * 16, 1)),
    timesteps: Float32Array.from([0, 500]),
    context: Float32Array.from(seededValues(dit.textLen * dit.textDim, 2)),
  };
  const speech = Float32Array.from(seededValues(5 * REFREE_TINY.speechDim, 3));
  const mp = new MapWeightProvider(weights);
  const withAdapter = (await run(buildReFreeGraph(dit, REFREE_TINY, mp, size, { attention: 'naive', speechMask: true }), { ...feeds, speech_features: speech, speech_mask: new Float32Array(5) })).velocity!;
  assert.deepEqual(mp.unconsumed(), []);
  const plain = (await run(buildDitGraph(dit, new MapWeightProvider(weights), size, { attention: 'naive' }), feeds)).velocity!;
  assert.deepEqual(withAdapter, plain);
  // And with a trained (nonzero) FiLM the speech does change the velocity.
  const trained = new Map([...weights, ...randomWeights(refreeParams(REFREE_TINY), 4)]);
  const moved = (await run(buildReFreeGraph(dit, REFREE_TINY, new MapWeightProvider(trained), size, { attention: 'naive' }), { ...feeds, speech_features: speech })).velocity!;
  assert.ok(moved.some((v, i) => Math.abs(v - plain[i]!) > 1e-3));
});

test('masked speech frames take the learned null speech (what guidance and masked-speech DPO use)', async () => {
  const dit = TINY.dit;
  const size = { batch: 1, frames: 2, h: 4, w: 4 };
  const weights = new Map([...randomWeights(ditParams(dit), 7), ...randomWeights(refreeParams(REFREE_TINY), 4)]);
  const feeds = {
    latents: Float32Array.from(seededValues(dit.inDim * 2 * 16, 1)),
    timesteps: Float32Array.from([0, 500]),
    context: Float32Array.from(seededValues(dit.textLen * dit.textDim, 2)),
  };
  const D = REFREE_TINY.speechDim;
  const speech = Float32Array.from(seededValues(5 * D, 3));
  const nul = (weights.get('refree.speech_encoder.null_speech')!.data as { data: Float32Array }).data;
  const g = (): ReturnType<typeof buildReFreeGraph> => buildReFreeGraph(dit, REFREE_TINY, new MapWeightProvider(weights), size, { attention: 'naive', speechMask: true });
  // Frames 1 and 3 masked = the same speech with those frames' features replaced by null_speech.
  const mask = Float32Array.from([0, 1, 0, 1, 0]);
  const replaced = Float32Array.from(speech);
  for (const f of [1, 3]) replaced.set(nul, f * D);
  const masked = (await run(g(), { ...feeds, speech_features: speech, speech_mask: mask })).velocity!;
  const direct = (await run(g(), { ...feeds, speech_features: replaced, speech_mask: new Float32Array(5) })).velocity!;
  const unmasked = (await run(g(), { ...feeds, speech_features: speech, speech_mask: new Float32Array(5) })).velocity!;
  assert.ok(masked.every((v, i) => Math.abs(v - direct[i]!) <= 1e-5));
  assert.ok(masked.some((v, i) => Math.abs(v - unmasked[i]!) > 1e-4));
});
