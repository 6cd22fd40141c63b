// The umT5-XXL encoder (W22 t5.py `T5Encoder`, wan2.2-ti2v-5b.md §3) in the graph language.
//
//   ids  int64 [B, L]   token ids, padded with the pad id to the static length L (512 for Wan)
//   mask int64 [B, L]   1 for real tokens (the prompt and its EOS), 0 for padding
//   → hidden  [B, L, dim]  the encoder output for every row (padding rows hold values that mean nothing)
//   → context [B, L, dim]  the same with padding rows set to exactly 0: Wan trims each prompt's output to
//                          its real length and zero-pads it back to text_len (§1.2), which for L = text_len
//                          is this tensor, so the DiT can take it as is.
//
// Per block (T5SelfAttention, shared_pos = False, so every block has its own position bias):
//   x = x + o(Attn(norm1(x)))   Attn: softmax(q kᵀ + bias_layer + mask_bias) v, NO 1/√d scaling (T5)
//   x = x + fc2(gelu_tanh(gate.0(h)) · fc1(h)),  h = norm2(x)
// then the final norm. Norms are T5 RMS norms (no mean subtraction, no bias, eps 1e-6); no linear has a
// bias. Dropout is inference-off. In float16 the residual stream is clamped as Wan's fp16_clamp does.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { float, int } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { GraphBuildError, ShapeError } from '../../graph/errors.js';
import { gelu, geluFused } from '../../graph/ops/activations.js';
import { add, cast, compare, max, min, mul } from '../../graph/ops/elementwise.js';
import { gather, where } from '../../graph/ops/indexing.js';
import { gemm, matmul } from '../../graph/ops/matmul.js';
import { rmsNorm, softmax } from '../../graph/ops/normalization.js';
import { reshape, transpose, unsqueeze } from '../../graph/ops/shape.js';
import type { T5Config } from '../config.js';
import { t5Params } from '../inventory/t5.js';
import type { WeightProvider } from '../weight-provider.js';
import { T5_MAX_DISTANCE, relativePositionBuckets } from './buckets.js';

/** Wan's T5LayerNorm default. */
export const T5_EPS = 1e-6;

export interface T5Options {
  /** Activation dtype (default float32). Weights of another dtype are cast to it after any lookup. */
  dtype?: DType;
  /**
   * 'naive' (default): MatMul + Add(bias) + Softmax + MatMul, runs on every backend and in float64.
   * 'fused': one com.microsoft.MultiHeadAttention node per block with the position bias and the padding
   * mask as its attention_bias input (scale 1); lowers to the naive form in float64.
   */
  attention?: 'naive' | 'fused';
  /** ONNX Gelu node (default) or the primitive tanh formula. */
  gelu?: 'fused' | 'primitive';
  /** Relative-position range (Wan: 128). */
  maxDistance?: number;
  eps?: number;
}

export interface T5Inputs {
  ids: Tensor;
  mask: Tensor;
}

export interface T5Outputs {
  hidden: Tensor;
  context: Tensor;
}

const FLOAT_TYPES: readonly DType[] = ['float16', 'float32', 'float64'];

/**
 * Added to the logits of padding keys. Exp of it underflows to exactly 0 in float32/float64, so this is
 * the same as Wan's masked_fill(finfo.min) while staying finite when the position bias is added; float16
 * uses its own most negative value.
 */
function maskNegative(dtype: DType): number {
  return dtype === 'float16' ? -65504 : -1e9;
}

/** Weights by official name with the inventory's shapes (one source of truth), cast lazily to `dtype`. */
function t5Weights(g: Graph, cfg: T5Config, provider: WeightProvider, dtype: DType) {
  const shapes = new Map(t5Params(cfg).map((p) => [p.name, p.shape]));
  const raw = new Map<string, Tensor>();
  const casted = new Map<string, Tensor>();
  const rawParam = (name: string): Tensor => {
    const hit = raw.get(name);
    if (hit) return hit;
    const shape = shapes.get(name);
    if (!shape) throw new GraphBuildError('T5', `"${name}" is not a parameter of this T5 architecture`);
    const t = provider.get(g, name, shape);
    if (!FLOAT_TYPES.includes(t.dtype)) throw new ShapeError('T5', [t.shape], `weight "${name}" is ${t.dtype}; a float dtype is needed`);
    raw.set(name, t);
    return t;
  };
  const param = (name: string): Tensor => {
    const hit = casted.get(name);
    if (hit) return hit;
    const t = cast(rawParam(name), dtype);
    casted.set(name, t);
    return t;
  };
  /** x W^T over the last axis as one Gemm(transB) on the rows: no Transpose of the [out, in] weight. */
  const linear = (name: string, x: Tensor): Tensor => {
    const w = param(`${name}.weight`);
    const inF = x.shape[x.rank - 1]!;
    if (w.shape[1] !== inF) throw new ShapeError('Linear', [x.shape, w.shape], `${name}: x has ${inF} features, the weight expects ${w.shape[1]}`);
    const y = gemm(reshape(x, [-1, inF]), w, null, { transB: true });
    return reshape(y, [...x.shape.slice(0, -1), w.shape[0]!]);
  };
  return { rawParam, param, linear };
}

type Weights = ReturnType<typeof t5Weights>;

function checkInputs(cfg: T5Config, { ids, mask }: T5Inputs, dtype: DType): void {
  const shapes = [ids.shape, mask.shape];
  if (ids.rank !== 2 || mask.rank !== 2 || ids.shape[0] !== mask.shape[0] || ids.shape[1] !== mask.shape[1]) {
    throw new ShapeError('T5', shapes, 'ids and mask must both be [batch, length]');
  }
  if (ids.dtype !== 'int64' && ids.dtype !== 'int32') throw new ShapeError('T5', shapes, `ids must be int64 or int32, got ${ids.dtype}`);
  if (mask.dtype !== 'int64' && mask.dtype !== 'int32') throw new ShapeError('T5', shapes, `mask must be int64 or int32, got ${mask.dtype}`);
  if (!FLOAT_TYPES.includes(dtype)) throw new ShapeError('T5', shapes, `activation dtype must be float16, float32 or float64, got ${dtype}`);
  if (cfg.dim % cfg.heads !== 0) throw new ShapeError('T5', [[cfg.dim, cfg.heads]], `dim ${cfg.dim} is not divisible by ${cfg.heads} heads`);
}

/** Wan's fp16_clamp: keeps the float16 residual stream finite (umT5 was trained in bf16). */
function fp16Clamp(x: Tensor): Tensor {
  if (x.dtype !== 'float16') return x;
  const c = 65504 - 1000;
  return max(min(x, c), -c);
}

/** The layer's position bias [1, H, L, L] from its [numBuckets, H] table and the shared bucket table. */
function positionBias(w: Weights, layer: number, buckets: Tensor, dtype: DType): Tensor {
  const table = w.rawParam(`blocks.${layer}.pos_embedding.embedding.weight`);
  const perPair = cast(gather(table, buckets, 0), dtype); // [L, L, H]: lookup first, then cast the small result
  return unsqueeze(transpose(perPair, [2, 0, 1]), [0]);
}

/** softmax(q kᵀ + bias) v over [B, L, H·Dh] packed heads, unscaled (T5). bias: [B, H, L, L]. */
function selfAttention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, heads: number, impl: 'naive' | 'fused'): Tensor {
  const [b, l, hd] = q.shape as [number, number, number];
  const naive = (qi: Tensor, ki: Tensor, vi: Tensor, bi: Tensor): Tensor => {
    const dh = hd / heads;
    const qh = transpose(reshape(qi, [b, l, heads, dh]), [0, 2, 1, 3]); // [B, H, L, Dh]
    const kt = transpose(reshape(ki, [b, l, heads, dh]), [0, 2, 3, 1]); // [B, H, Dh, L]
    const vh = transpose(reshape(vi, [b, l, heads, dh]), [0, 2, 1, 3]);
    const p = softmax(add(matmul(qh, kt), bi), -1);
    return reshape(transpose(matmul(p, vh), [0, 2, 1, 3]), [b, l, hd]);
  };
  if (impl === 'naive') return naive(q, k, v, bias);
  // com.microsoft.MultiHeadAttention inputs: query, key, value, bias, key_padding_mask, attention_bias.
  return q.graph.node('MultiHeadAttention', [q, k, v, null, null, bias], { num_heads: int(heads), scale: float(1) }, [{ dtype: q.dtype, shape: q.shape }], {
    domain: 'com.microsoft',
    lowering: {
      when: (n) => n.inputs[0]!.dtype === 'float64',
      build: (inputs) => {
        const [qi, ki, vi, , , bi] = inputs as [Tensor, Tensor, Tensor, null, null, Tensor];
        return [naive(qi, ki, vi, bi)];
      },
    },
  })[0]!;
}

/** The encoder on graph tensors (see the header for inputs and outputs). */
export function t5Forward(g: Graph, cfg: T5Config, provider: WeightProvider, inputs: T5Inputs, opts: T5Options = {}): T5Outputs {
  const dtype = opts.dtype ?? 'float32';
  checkInputs(cfg, inputs, dtype);
  const { ids, mask } = inputs;
  const [B, L] = ids.shape as [number, number];
  const eps = opts.eps ?? T5_EPS;
  const impl = opts.attention ?? 'naive';
  const w = t5Weights(g, cfg, provider, dtype);
  const act = opts.gelu === 'primitive' ? (t: Tensor) => gelu(t, 'tanh') : (t: Tensor) => geluFused(t, 'tanh');

  // One bucket table for all layers (each layer looks up its own embedding with it).
  const buckets = g.constant('int64', [L, L], relativePositionBuckets(L, cfg.numBuckets, opts.maxDistance ?? T5_MAX_DISTANCE, true));
  const keep = compare('Greater', mask, 0); // [B, L] bool; Wan masks where mask == 0
  const maskBias = reshape(where(keep, 0, g.scalar(maskNegative(dtype), dtype)), [B, 1, 1, L]);

  // Look up rows first, then cast: a float16 1B-row table is never converted whole.
  let x = cast(gather(w.rawParam('token_embedding.weight'), ids, 0), dtype); // [B, L, dim]
  for (let i = 0; i < cfg.layers; i++) {
    x = g.scope(`blocks.${i}`, () => {
      const b = `blocks.${i}`;
      const h = rmsNorm(x, w.param(`${b}.norm1.weight`), { eps });
      const bias = add(positionBias(w, i, buckets, dtype), maskBias); // [B, H, L, L]
      const a = selfAttention(w.linear(`${b}.attn.q`, h), w.linear(`${b}.attn.k`, h), w.linear(`${b}.attn.v`, h), bias, cfg.heads, impl);
      const x1 = fp16Clamp(add(x, w.linear(`${b}.attn.o`, a)));
      const h2 = rmsNorm(x1, w.param(`${b}.norm2.weight`), { eps });
      const f = w.linear(`${b}.ffn.fc2`, mul(act(w.linear(`${b}.ffn.gate.0`, h2)), w.linear(`${b}.ffn.fc1`, h2)));
      return fp16Clamp(add(x1, f));
    });
  }
  const hidden = rmsNorm(x, w.param('norm.weight'), { eps });
  // where (not a multiply by the mask) so padding rows are +0 exactly, as torch's zero-padding gives.
  const context = where(unsqueeze(keep, [2]), hidden, 0);
  return { hidden, context };
}

export interface T5GraphSize {
  batch: number;
  /** Static token length (Wan: 512). */
  length: number;
}

export interface BuildT5Options extends T5Options {
  /** Also output `hidden` (the unmasked rows). */
  withHidden?: boolean;
}

/** A graph with inputs `ids`, `mask` (int64 [B, L]) and output `context` [B, L, dim] (padding rows 0). */
export function buildT5Graph(cfg: T5Config, provider: WeightProvider, size: T5GraphSize, opts: BuildT5Options = {}): Graph {
  if (!Number.isInteger(size.batch) || size.batch < 1 || !Number.isInteger(size.length) || size.length < 1) {
    throw new ShapeError('T5', [[size.batch, size.length]], 'batch and length must be positive integers');
  }
  const g = new Graph('umt5_encoder');
  const ids = g.input('ids', 'int64', [size.batch, size.length]);
  const mask = g.input('mask', 'int64', [size.batch, size.length]);
  const out = t5Forward(g, cfg, provider, { ids, mask }, opts);
  g.output(out.context, 'context');
  if (opts.withHidden) g.output(out.hidden, 'hidden');
  return g;
}
