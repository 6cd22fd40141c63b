import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import { InitializerParams, InputParams } from '../params.js';
import { CompiledGraph } from '../../runtime/session.js';
import { gradcheck, seededValues } from '../../exec/gradcheck.js';
import { mul, sub, tanh } from '../ops/elementwise.js';
import { reduceMean } from '../ops/reduce.js';
import { serialize } from '../onnx/serialize.js';
import { ShapeError } from '../errors.js';
import type { Weights } from './lora.js';
import type { DitConfig } from './dit.js';
import { WAN_5B_DIT, WAN_LORA_TARGETS, ditBlock, ditStack } from './dit.js';
import { buildTrainGraph } from './train-step.js';
import { Trainer } from '../../exec/trainer.js';
import { webgpuUnavailableReason } from '../../exec/webgpu-probe.js';

// --- a float64 JS reference of one block, written from reference/wan2.2-ti2v-5b.md §1.3 ------------

type Mat = { rows: number; cols: number; d: Float64Array };
const mat = (rows: number, cols: number, d: Float64Array = new Float64Array(rows * cols)): Mat => ({ rows, cols, d });
function lin(x: Mat, w: Float64Array, b: Float64Array, out: number): Mat {
  const y = mat(x.rows, out);
  for (let r = 0; r < x.rows; r++)
    for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < x.cols; i++) s += x.d[r * x.cols + i]! * w[o * x.cols + i]!;
      y.d[r * out + o] = s;
    }
  return y;
}
function rowMap(x: Mat, f: (row: Float64Array, out: Float64Array) => void): Mat {
  const y = mat(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) f(x.d.subarray(r * x.cols, (r + 1) * x.cols), y.d.subarray(r * x.cols, (r + 1) * x.cols));
  return y;
}
const ln = (x: Mat, eps: number, w?: Float64Array, b?: Float64Array): Mat =>
  rowMap(x, (row, out) => {
    const mu = row.reduce((a, v) => a + v, 0) / row.length;
    const vr = row.reduce((a, v) => a + (v - mu) ** 2, 0) / row.length;
    row.forEach((v, i) => (out[i] = ((v - mu) / Math.sqrt(vr + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0)));
  });
const rms = (x: Mat, w: Float64Array, eps: number): Mat =>
  rowMap(x, (row, out) => {
    const ms = row.reduce((a, v) => a + v * v, 0) / row.length;
    row.forEach((v, i) => (out[i] = (v / Math.sqrt(ms + eps)) * w[i]!));
  });
function attn(q: Mat, k: Mat, v: Mat, heads: number): Mat {
  const dh = q.cols / heads;
  const y = mat(q.rows, q.cols);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < q.rows; i++) {
      const logits = Array.from({ length: k.rows }, (_, j) => {
        let s = 0;
        for (let c = 0; c < dh; c++) s += q.d[i * q.cols + h * dh + c]! * k.d[j * k.cols + h * dh + c]!;
        return s / Math.sqrt(dh);
      });
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dh; c++) y.d[i * q.cols + h * dh + c] = e.reduce((a, p, j) => a + (p / z) * v.d[j * v.cols + h * dh + c]!, 0);
    }
  return y;
}
const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

function referenceBlock(p: (n: string) => Float64Array, x: Mat, e0: Float64Array, ctx: Mat, cfg: DitConfig, name: string): Mat {
  const D = cfg.dim;
  const eps = cfg.eps!;
  const mod = p(`${name}.modulation`).map((v, i) => v + e0[i]!);
  const row = (k: number) => mod.subarray(k * D, (k + 1) * D);
  const [s1, c1, g1, s2, c2, g2] = [0, 1, 2, 3, 4, 5].map(row) as Float64Array[];
  const modulate = (h: Mat, s: Float64Array, c: Float64Array) => rowMap(ln(h, eps), (r, o) => r.forEach((v, i) => (o[i] = v * (1 + c[i]!) + s[i]!)));
  const L = (h: Mat, n: string, out: number) => lin(h, p(`${n}.weight`), p(`${n}.bias`), out);
  const attnLayer = (h: Mat, kv: Mat, n: string) => {
    const q = rms(L(h, `${n}.q`, D), p(`${n}.norm_q.weight`), eps);
    const k = rms(L(kv, `${n}.k`, D), p(`${n}.norm_k.weight`), eps);
    return L(attn(q, k, L(kv, `${n}.v`, D), cfg.heads), `${n}.o`, D);
  };
  const addScaled = (a: Mat, b: Mat, gate?: Float64Array): Mat => mat(a.rows, a.cols, a.d.map((v, i) => v + b.d[i]! * (gate ? gate[i % a.cols]! : 1)));
  const h1 = modulate(x, s1!, c1!);
  const x1 = addScaled(x, attnLayer(h1, h1, `${name}.self_attn`), g1);
  const x2 = addScaled(x1, attnLayer(ln(x1, eps, p(`${name}.norm3.weight`), p(`${name}.norm3.bias`)), ctx, `${name}.cross_attn`));
  const f0 = L(modulate(x2, s2!, c2!), `${name}.ffn.0`, cfg.ffnDim);
  f0.d.forEach((v, i) => (f0.d[i] = geluTanh(v)));
  return addScaled(x2, L(f0, `${name}.ffn.2`, D), g2);
}

const SMALL: DitConfig = { dim: 8, heads: 2, ffnDim: 12, layers: 1, eps: 1e-6 };

test('DiT block forward matches a float64 JS reference of the Wan block (modulation order, norms, both attentions, FFN)', async () => {
  const g = new Graph();
  const ps = new InputParams(g, 'float64');
  const w: Weights = { frozen: ps, trainable: ps, lora: null };
  const x = g.input('x', 'float64', [1, 5, 8]);
  const e0 = g.input('e0', 'float64', [1, 6, 8]);
  const ctx = g.input('ctx', 'float64', [1, 3, 8]);
  const y = ditBlock(w, 'blocks.0', x, e0, ctx, SMALL);
  const s = await CompiledGraph.fromGraph(g, { outputs: [g.alias(y, 'y')] });
  const feeds: Record<string, Float64Array> = {};
  g.inputs.forEach((t, i) => (feeds[t.name] = seededValues(t.size, 500 + i)));
  const out = (await s.run(feeds)).y as Float64Array;
  const ref = referenceBlock((n) => feeds[n]!, mat(5, 8, feeds.x!), feeds.e0!, mat(3, 8, feeds.ctx!), SMALL, 'blocks.0');
  let worst = 0;
  for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref.d[i]!));
  assert.ok(worst < 1e-10, `max |Δ| ${worst}`);
  // The block's parameters carry Wan's state-dict names.
  assert.deepEqual([...ps.tensors.keys()].sort(), [
    'blocks.0.cross_attn.k.bias', 'blocks.0.cross_attn.k.weight', 'blocks.0.cross_attn.norm_k.weight', 'blocks.0.cross_attn.norm_q.weight',
    'blocks.0.cross_attn.o.bias', 'blocks.0.cross_attn.o.weight', 'blocks.0.cross_attn.q.bias', 'blocks.0.cross_attn.q.weight',
    'blocks.0.cross_attn.v.bias', 'blocks.0.cross_attn.v.weight', 'blocks.0.ffn.0.bias', 'blocks.0.ffn.0.weight', 'blocks.0.ffn.2.bias',
    'blocks.0.ffn.2.weight', 'blocks.0.modulation', 'blocks.0.norm3.bias', 'blocks.0.norm3.weight',
    'blocks.0.self_attn.k.bias', 'blocks.0.self_attn.k.weight', 'blocks.0.self_attn.norm_k.weight', 'blocks.0.self_attn.norm_q.weight',
    'blocks.0.self_attn.o.bias', 'blocks.0.self_attn.o.weight', 'blocks.0.self_attn.q.bias', 'blocks.0.self_attn.q.weight',
    'blocks.0.self_attn.v.bias', 'blocks.0.self_attn.v.weight',
  ]);
  await s.release();
});

test('DiT stack gradients (LoRA adapters, frozen weights, tokens, context, conditioning) match float64 finite differences', async () => {
  const r = await gradcheck((g) => {
    const ps = new InputParams(g, 'float64');
    const w: Weights = { frozen: ps, trainable: ps, lora: { rank: 2, alpha: 3, targets: WAN_LORA_TARGETS } };
    const x = g.input('x', 'float64', [1, 4, 8]);
    const cond = g.input('cond', 'float64', [1, 8]);
    const ctx = g.input('ctx', 'float64', [1, 3, 8]);
    const loss = reduceMean(tanh(ditStack(w, x, cond, ctx, { ...SMALL, layers: 1 })));
    // Key biases cancel in softmax (zero gradient, noise-only finite differences); leave them out.
    return { loss, wrt: [x, cond, ctx, ...[...ps.tensors.values()].filter((t) => !t.name.endsWith('.k.bias'))] };
  });
  assert.ok(r.maxRelError <= 1e-6, `${r.maxRelError} (${r.worst})`);
});

test('a wrongly shaped conditioning tensor fails at build time naming the block', () => {
  const g = new Graph();
  const ps = new InputParams(g);
  const x = g.input('x', 'float32', [1, 4, 8]);
  const ctx = g.input('ctx', 'float32', [1, 3, 8]);
  const e0 = g.input('e0', 'float32', [1, 5, 8]);
  assert.throws(() => ditBlock({ frozen: ps, trainable: ps }, 'blocks.7', x, e0, ctx, SMALL), (e: unknown) => e instanceof ShapeError && /blocks\.7/.test(e.message) && /\[1,5,8\]/.test(e.message));
});

/** Tokens [1, L, dim], conditioning [1, dim], context [1, Lc, ctxDim]; MSE to a target. */
function ditLoss(cfg: DitConfig, tokens: number, ctxTokens: number) {
  return (g: Graph, w: Weights): Tensor => {
    const x = g.input('x', 'float32', [1, tokens, cfg.dim]);
    const cond = g.input('cond', 'float32', [1, cfg.dim]);
    const ctx = g.input('ctx', 'float32', [1, ctxTokens, cfg.contextDim ?? cfg.dim]);
    const target = g.input('target', 'float32', [1, tokens, cfg.dim]);
    const d = sub(ditStack(w, x, cond, ctx, cfg), target);
    return reduceMean(mul(d, d));
  };
}

test('building the 30-block 5B DiT (dim 3072, 24 heads, ffn 14336, 900 tokens, 512 context rows) with LoRA r=32: the graphs build without allocating weights (build times printed; speed is for `npm run bench -- graph`)', () => {
  const cfg = WAN_5B_DIT;
  const t0 = performance.now();
  const g = new Graph('wan5b_forward');
  const frozen = new InitializerParams(g, 'float32', { external: 'wan2.2_ti2v_5b.bin' });
  const x = g.input('x', 'float32', [1, 900, cfg.dim]);
  const cond = g.input('cond', 'float32', [1, cfg.dim]);
  const ctx = g.input('ctx', 'float32', [1, 512, cfg.dim]);
  const trainable = new InputParams(g);
  g.output(ditStack({ frozen, trainable, lora: { rank: 32, targets: WAN_LORA_TARGETS } }, x, cond, ctx, cfg));
  const forwardMs = performance.now() - t0;

  const t1 = performance.now();
  const tg = buildTrainGraph({ loss: ditLoss(cfg, 900, 512), lora: { rank: 32, targets: WAN_LORA_TARGETS }, frozen: (gr) => new InitializerParams(gr, 'float32', { external: 'wan2.2_ti2v_5b.bin' }) });
  const trainMs = performance.now() - t1;
  const t2 = performance.now();
  const bytes = serialize(tg.graph, { outputs: tg.outputs });
  const serializeMs = performance.now() - t2;
  console.log(
    `5B DiT build: forward ${forwardMs.toFixed(0)} ms (${g.nodes.length} nodes), LoRA training graph ${trainMs.toFixed(0)} ms (${tg.graph.nodes.length} nodes, ` +
      `${(tg.layout.size / 1e6).toFixed(1)}M LoRA params), serialize ${serializeMs.toFixed(0)} ms (${(bytes.length / 1e6).toFixed(2)} MB)`,
  );
  // 10 linears per block are adapted with r = 32: 80.6M parameters (reference §6).
  assert.equal(tg.layout.size, 30 * 32 * (8 * (3072 + 3072) + 2 * (3072 + 14336)));
  assert.equal(frozen.externalBytes, 4 * (30 * 163_656_704 + 3072 * 18432 + 18432));
  // Graph size is what build and session-open time follow: hold it, not a wall-clock time (timed
  // asserts flake on a loaded machine).
  assert.ok(tg.graph.nodes.length < 12 * g.nodes.length, `training graph has ${tg.graph.nodes.length} nodes for a ${g.nodes.length}-node forward`);
});

test('the LoRA training graph (fwd+bwd+AdamW) of a tiny-width 30-block DiT opens and trains (open time printed)', async () => {
  const cfg: DitConfig = { dim: 32, heads: 2, ffnDim: 64, layers: 30, eps: 1e-6 };
  const tg = buildTrainGraph({ loss: ditLoss(cfg, 16, 8), lora: { rank: 4, targets: WAN_LORA_TARGETS } });
  const t0 = performance.now();
  const trainer = await Trainer.open(tg, { optimization: 'basic', seed: 1 });
  const openMs = performance.now() - t0;
  console.log(`30-block tiny DiT training graph: ${tg.graph.nodes.length} nodes, ${tg.graph.inputs.length} inputs, session opened in ${openMs.toFixed(0)} ms (basic)`);
  const feed = (name: string, n: number, seed: number) => [name, Float32Array.from(seededValues(n, seed))] as const;
  const data = Object.fromEntries([feed('x', 16 * 32, 1), feed('cond', 32, 2), feed('ctx', 8 * 32, 3), feed('target', 16 * 32, 4)]);
  const l0 = await trainer.step(data, 1e-3);
  await trainer.step(data, 1e-3);
  const l2 = await trainer.step(data, 1e-3);
  await trainer.release();
  assert.ok(Number.isFinite(l0) && l2 < l0, `loss ${l0} → ${l2}`);
});

test('a DiT LoRA training step on WebGPU (no CPU fallback) matches CPU to 1e-4, batch 1 (token-major) and batch 2', async (t) => {
  const reason = await webgpuUnavailableReason();
  if (reason) {
    console.log(`skipping WebGPU comparison: no WebGPU session could be created (${reason})`);
    t.skip(`no WebGPU adapter: ${reason}`);
    return;
  }
  const cfg: DitConfig = { dim: 32, heads: 2, ffnDim: 64, layers: 2, eps: 1e-6 };
  for (const batch of [1, 2]) {
    const loss = (g: Graph, w: Weights): Tensor => {
      const x = g.input('x', 'float32', [batch, 16, cfg.dim]);
      const cond = g.input('cond', 'float32', [batch, cfg.dim]);
      const ctx = g.input('ctx', 'float32', [batch, 8, cfg.dim]);
      const target = g.input('target', 'float32', [batch, 16, cfg.dim]);
      const d = sub(ditStack(w, x, cond, ctx, cfg), target);
      return reduceMean(mul(d, d));
    };
    const tg = buildTrainGraph({ loss, lora: { rank: 4, targets: WAN_LORA_TARGETS } });
    const feed = (name: string, n: number, seed: number) => [name, Float32Array.from(seededValues(n, seed))] as const;
    const data = Object.fromEntries([feed('x', batch * 16 * 32, 1), feed('cond', batch * 32, 2), feed('ctx', batch * 8 * 32, 3), feed('target', batch * 16 * 32, 4)]);
    const cpu = await Trainer.open(tg, { seed: 1 });
    const gpu = await Trainer.open(tg, { seed: 1, backend: 'webgpu', disableCpuFallback: true });
    for (let i = 0; i < 3; i++) {
      const lc = await cpu.step(data, 1e-2);
      const lg = await gpu.step(data, 1e-2);
      let worst = 0;
      for (let j = 0; j < cpu.params.length; j++) worst = Math.max(worst, Math.abs(cpu.params[j]! - gpu.params[j]!));
      assert.ok(Math.abs(lc - lg) <= 1e-4 && worst <= 1e-4, `batch ${batch} step ${i}: loss ${lc} vs ${lg}, max |Δparams| ${worst}`);
    }
    await cpu.release();
    await gpu.release();
  }
});
