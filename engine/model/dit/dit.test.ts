import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import { reshape } from '../../graph/ops/shape.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { DitConfig } from '../config.js';
import { TINY } from '../config.js';
import { ditParams } from '../inventory/dit.js';
import { randomWeights, seededNormal } from '../random-weights.js';
import { InputWeightProvider, MapWeightProvider } from '../weight-provider.js';
import type { BuildDitOptions, DitGridSize } from './dit.js';
import { buildDitGraph, ditForward } from './dit.js';
import { perFrameTimesteps } from './embeddings.js';
import { ditReference, relError } from './reference.test-helper.js';

const cfg: DitConfig = TINY.dit; // dim 48, 4 heads (head dim 12: RoPE 4/4/4), 2 layers, textLen 8
const weights = randomWeights(ditParams(cfg), 7);
const refWeights = new Map([...weights].map(([k, e]) => [k, (e.data as { kind: 'inline'; data: Float32Array }).data]));
const size: DitGridSize = { batch: 2, frames: 3, h: 4, w: 6 }; // token grid 3×2×3 = 18 tokens
const L = 3 * 2 * 3;
const S = 2 * 3;

const latents = seededNormal(size.batch * cfg.inDim * size.frames * size.h * size.w, 11, 1);
const context = seededNormal(size.batch * cfg.textLen * cfg.textDim, 12, 1);
// TI2V: latent frame 0 has t = 0; the other frames share the sample's t (two different samples).
const frameT = [0, 937, 937, 0, 412.5, 412.5];
const timesteps = Float32Array.from(frameT);
const tokenTimesteps = Float32Array.from({ length: size.batch * L }, (_, i) => frameT[Math.floor(i / L) * size.frames + Math.floor((i % L) / S)]!);

const reference = ditReference(cfg, refWeights, { batch: size.batch, frames: size.frames, height: size.h, width: size.w, latents, tokenTimesteps, context });

async function runGraph(g: Graph, dtype: 'float32' | 'float64'): Promise<Float64Array> {
  const conv = (a: Float32Array): Float32Array | Float64Array => (dtype === 'float64' ? Float64Array.from(a) : a);
  // ORT's 'extended' fusions turn x·sigmoid(x) into com.microsoft.QuickGelu, which has no float64 kernel.
  const c = await CompiledGraph.fromGraph(g, { optimization: dtype === 'float64' ? 'basic' : 'all' });
  try {
    const r = await c.run({ latents: conv(latents), timesteps: conv(timesteps), context: conv(context) });
    return Float64Array.from(r.velocity as Float32Array);
  } finally {
    await c.release();
  }
}

async function velocity(opts: BuildDitOptions): Promise<Float64Array> {
  const g = buildDitGraph(cfg, new MapWeightProvider(weights), size, opts);
  return runGraph(g, opts.dtype === 'float64' ? 'float64' : 'float32');
}

test('reference sanity: the velocity is not trivially small and frame-0 timestep 0 matters', () => {
  const maxAbs = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(maxAbs > 0.1, `max |v| ${maxAbs}`);
  const allT = Float32Array.from(tokenTimesteps, (_, i) => (i % L < S ? 937 : tokenTimesteps[i]!));
  const other = ditReference(cfg, refWeights, { batch: size.batch, frames: size.frames, height: size.h, width: size.w, latents, tokenTimesteps: allT, context });
  assert.ok(relError(other, reference) > 1e-3, 'changing frame 0 timestep must change the output');
});

test('float64 graph matches the float64 JS reference (naive attention)', async () => {
  const v = await velocity({ dtype: 'float64', attention: 'naive' });
  const err = relError(v, reference);
  console.log(`  float64 naive: rel error ${err.toExponential(2)}`);
  assert.ok(err <= 1e-10, `rel error ${err}`);
});

for (const attention of ['fused', 'naive', 'blockwise'] as const) {
  test(`float32 graph (${attention} attention) matches the float64 reference to 1e-4`, async () => {
    const v = await velocity({ attention, blockSize: 5 });
    const err = relError(v, reference);
    console.log(`  float32 ${attention}: rel error ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `rel error ${err}`);
  });
}

test('timestepPrecision "compute" (float32 sinusoid, for EPs without float64 Sin/Cos) stays close', async () => {
  const err = relError(await velocity({ attention: 'naive', timestepPrecision: 'compute' }), reference);
  console.log(`  float32 sinusoid: rel error ${err.toExponential(2)}`);
  assert.ok(err <= 1e-3, `rel error ${err}`);
});

test('per-token timesteps convert to the per-frame input; non-constant frames are refused', () => {
  assert.deepEqual(Array.from(perFrameTimesteps(tokenTimesteps, size.batch, { frames: 3, h: 2, w: 3 })), frameT);
  const bad = Float32Array.from(tokenTimesteps);
  bad[L + S + 2] = 5;
  assert.throws(() => perFrameTimesteps(bad, size.batch, { frames: 3, h: 2, w: 3 }), /batch 1, frame 1: token 2/);
});

for (const injectAt of ['after_self_attn', 'after_cross_attn', 'after_ffn'] as const) {
  test(`speech-injection hook at ${injectAt} runs once per block and matches the reference`, async () => {
    // The injected update depends on block, token and channel, so a wrong position or order shows.
    const delta = (blk: number, tok: number, d: number): number => 0.05 * (blk + 1) * Math.sin(0.7 * d + 1.3 * tok);
    const calls: string[] = [];
    const g = new Graph();
    const lat = g.input('latents', 'float32', [size.batch, cfg.inDim, size.frames, size.h, size.w]);
    const ts = g.input('timesteps', 'float32', [size.batch, size.frames]);
    const ctx = g.input('context', 'float32', [size.batch, cfg.textLen, cfg.textDim]);
    const out = ditForward(g, cfg, new MapWeightProvider(weights), { latents: lat, timesteps: ts, context: ctx }, {
      attention: 'naive',
      injectAt,
      inject: (blk: number, x: Tensor, c) => {
        calls.push(`${blk}:${x.shape.join(',')}:${c.tokensPerFrame}:${c.point}:${c.e.shape.join(',')}`);
        const vals = Float32Array.from({ length: L * cfg.dim }, (_, i) => delta(blk, Math.floor(i / cfg.dim), i % cfg.dim));
        return add(x, g.constant('float32', [1, L, cfg.dim], vals));
      },
    });
    g.output(out, 'velocity');
    assert.deepEqual(calls, [`0:2,18,48:6:${injectAt}:2,3,48`, `1:2,18,48:6:${injectAt}:2,3,48`]);
    const ref = ditReference(cfg, refWeights, {
      batch: size.batch, frames: size.frames, height: size.h, width: size.w, latents, tokenTimesteps, context, injectAt,
      inject: (blk, _b, x) => { for (let i = 0; i < x.length; i++) x[i] = x[i]! + delta(blk, Math.floor(i / cfg.dim), i % cfg.dim); },
    });
    assert.ok(relError(ref, reference) > 1e-3, 'the injection must change the reference output');
    const err = relError(await runGraph(g, 'float32'), ref);
    assert.ok(err <= 1e-4, `rel error ${err}`);
  });
}

test('an injection hook that returns the wrong shape is refused', () => {
  const g = new Graph();
  assert.throws(
    () => ditForward(g, cfg, new MapWeightProvider(weights), {
      latents: g.input('latents', 'float32', [1, cfg.inDim, 1, 2, 2]),
      timesteps: g.input('timesteps', 'float32', [1, 1]),
      context: g.input('context', 'float32', [1, cfg.textLen, cfg.textDim]),
    }, { inject: (_i, x) => reshape(x, [1, cfg.dim]) }),
    (e: unknown) => e instanceof ShapeError && /InjectHook/.test(e.message) && /\[1,48\]/.test(e.message),
  );
});

test('every linear goes through the linear hook by official name, and its result is used', async () => {
  const names: string[] = [];
  const g = buildDitGraph(cfg, new MapWeightProvider(weights), size, {
    attention: 'naive',
    linear: (name, x, base) => {
      names.push(name);
      return name === 'head.head' ? mul(base(x), 2) : base(x);
    },
  });
  const expected = ['patch_embedding', ...ditParams(cfg).filter((p) => p.shape.length === 2 && p.name.endsWith('.weight')).map((p) => p.name.slice(0, -'.weight'.length))];
  assert.deepEqual([...names].sort(), [...new Set(expected)].sort());
  assert.equal(names.length, 7 + 10 * cfg.layers);
  assert.ok(names.includes('blocks.1.self_attn.q') && names.includes('blocks.0.ffn.2'));
  const v = await runGraph(g, 'float32');
  const err = relError(v, reference.map((r) => 2 * r));
  assert.ok(err <= 1e-4, `doubling head.head must double the velocity; rel error ${err}`);
});

test('every inventory weight is consumed; InputWeightProvider turns them all into inputs', () => {
  const mp = new MapWeightProvider(weights);
  buildDitGraph(cfg, mp, size);
  assert.deepEqual(mp.unconsumed(), []);
  const ip = new InputWeightProvider();
  const g = buildDitGraph(cfg, ip, { batch: 1, frames: 1, h: 2, w: 2 }, { attention: 'naive' });
  assert.equal(ip.requested.size, ditParams(cfg).length);
  assert.deepEqual(g.inputs.slice(0, 3).map((t) => `${t.name}[${t.shape.join(',')}]`), ['latents[1,8,1,2,2]', 'timesteps[1,1]', 'context[1,8,32]']);
  assert.deepEqual(g.outputs.map((t) => `${t.name}[${t.shape.join(',')}]`), ['velocity[1,8,1,2,2]']);
});

test('wrong context width, latent channels, timesteps or odd latent size fail at build time naming the op and shapes', () => {
  const build = (latShape: number[], tShape: number[], cShape: number[]): void => {
    const g = new Graph();
    ditForward(g, cfg, new MapWeightProvider(weights), {
      latents: g.input('latents', 'float32', latShape),
      timesteps: g.input('timesteps', 'float32', tShape),
      context: g.input('context', 'float32', cShape),
    });
  };
  const is = (re: RegExp) => (e: unknown): boolean => e instanceof ShapeError && /DiT/.test(e.message) && re.test(e.message);
  assert.throws(() => build([1, 8, 2, 4, 4], [1, 2], [1, 8, 40]), is(/context must be \[1, textLen=8, textDim=32\].*\[1,8,2,4,4\] and \[1,2\] and \[1,8,40\]/));
  assert.throws(() => build([1, 8, 2, 4, 4], [1, 2], [1, 5, 32]), is(/textLen=8.*\[1,5,32\]/));
  assert.throws(() => build([1, 16, 2, 4, 4], [1, 2], [1, 8, 32]), is(/latents must be \[batch, 8 channels.*got 16 channels.*\[1,16,2,4,4\]/));
  assert.throws(() => build([1, 8, 2, 4, 4], [1, 8], [1, 8, 32]), is(/timesteps must be \[1, 2\].*\[1,8\]/));
  assert.throws(() => build([1, 8, 2, 5, 4], [1, 2], [1, 8, 32]), is(/divisible by the patch \(1,2,2\).*\[1,8,2,5,4\]/));
});
