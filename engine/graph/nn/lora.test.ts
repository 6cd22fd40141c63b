import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import { InputParams, fillInit, normalInit } from '../params.js';
import { CompiledGraph } from '../../runtime/session.js';
import { gradcheck } from '../../exec/gradcheck.js';
import { reduceMean } from '../ops/reduce.js';
import { tanh } from '../ops/elementwise.js';
import { ShapeError, GraphBuildError } from '../errors.js';
import type { Weights } from './lora.js';
import { linear2d, loraLinear, mergeLoraReference } from './lora.js';

const IN = 6;
const OUT = 5;
const R = 3;

function randn(n: number, name: string): Float32Array {
  const a = new Float32Array(n);
  fillInit(a, normalInit(1), 1, name);
  return a;
}

test('LoRA linear equals a plain linear with the merged weight W + (alpha/r)·B·A', async () => {
  const g = new Graph();
  const frozen = new InputParams(g);
  const trainable = new InputParams(g);
  const w: Weights = { frozen, trainable, lora: { rank: R, alpha: 6 } };
  const x = g.input('x', 'float32', [2, 4, IN]);
  const y = loraLinear(w, 'fc', x, IN, OUT);
  const merged = g.input('merged', 'float32', [OUT, IN]);
  const yMerged = linear2d(x, merged, frozen.tensors.get('fc.bias')!);
  assert.deepEqual([...trainable.tensors.keys()], ['fc.lora_A.weight', 'fc.lora_B.weight']);
  assert.deepEqual(trainable.tensors.get('fc.lora_A.weight')!.shape, [R, IN]);
  assert.deepEqual(trainable.tensors.get('fc.lora_B.weight')!.shape, [OUT, R]);
  const s = await CompiledGraph.fromGraph(g, { outputs: [g.alias(y, 'y'), g.alias(yMerged, 'ym')] });
  const W = randn(OUT * IN, 'w');
  const A = randn(R * IN, 'a');
  const Bm = randn(OUT * R, 'b');
  const out = await s.run({ x: randn(2 * 4 * IN, 'x'), 'fc.weight': W, 'fc.bias': randn(OUT, 'bias'), 'fc.lora_A.weight': A, 'fc.lora_B.weight': Bm, merged: mergeLoraReference(W, A, Bm, OUT, IN, R, 6) });
  const a = out.y as Float32Array;
  const b = out.ym as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst < 1e-5, `max |Δ| ${worst}`);
  await s.release();
});

test('LoRA targets choose which linears get adapters; B is zero-initialised so training starts at the base model', () => {
  const g = new Graph();
  const trainable = new InputParams(g);
  const w: Weights = { frozen: new InputParams(g), trainable, lora: { rank: 2, targets: (n) => n.endsWith('.q') } };
  const x = g.input('x', 'float32', [3, IN]);
  loraLinear(w, 'attn.q', x, IN, OUT);
  loraLinear(w, 'attn.k', x, IN, OUT);
  assert.deepEqual([...trainable.tensors.keys()], ['attn.q.lora_A.weight', 'attn.q.lora_B.weight']);
  // The init the layer asks for: B zeros, A uniform.
  const layoutGraph = new Graph();
  const inits: Record<string, string> = {};
  const spy = { graph: layoutGraph, dtype: 'float32' as const, param: (n: string, s: readonly number[], init?: { kind: string }) => ((inits[n] = init?.kind ?? 'none'), layoutGraph.input(n, 'float32', s)) };
  loraLinear({ frozen: new InputParams(layoutGraph), trainable: spy, lora: { rank: 2 } }, 'fc', layoutGraph.input('x', 'float32', [1, IN]), IN, OUT);
  assert.deepEqual(inits, { 'fc.lora_A.weight': 'uniform', 'fc.lora_B.weight': 'zeros' });
});

test('LoRA linear gradients (x, W, b, A, B) match float64 finite differences', async () => {
  const r = await gradcheck((g) => {
    const ps = new InputParams(g, 'float64');
    const x = g.input('x', 'float64', [2, 3, IN]);
    const y = loraLinear({ frozen: ps, trainable: ps, lora: { rank: R, alpha: 2 } }, 'fc', x, IN, OUT);
    return { loss: reduceMean(tanh(y)), wrt: [x, ...ps.tensors.values()] };
  });
  assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
});

test('wrong input width and bad rank fail at build time', () => {
  const g = new Graph();
  const ps = new InputParams(g);
  const x = g.input('x', 'float32', [3, IN + 1]);
  assert.throws(() => loraLinear({ frozen: ps, trainable: ps }, 'fc', x, IN, OUT), (e: unknown) => e instanceof ShapeError && /\[3,7\]/.test(e.message) && /fc/.test(e.message));
  const x2 = g.input('x2', 'float32', [3, IN]);
  assert.throws(() => loraLinear({ frozen: ps, trainable: ps, lora: { rank: 0 } }, 'fc2', x2, IN, OUT), GraphBuildError);
});
