// Linear layers with optional LoRA, and the Weights bundle every nn layer takes.
//
// A layer asks `frozen` for base weights and `trainable` for what the optimizer updates; the caller
// decides what each source is (flat-vector slices, graph inputs, inline or external initializers, see
// params.ts). LoRA training passes a FlatParams as `trainable` and initializers as `frozen`, so the base
// weights get no gradient at all (autodiff prunes them); full fine-tuning passes the same FlatParams as
// both.
//
// Parameter names follow PyTorch/PEFT: `<name>.weight` [out, in], `<name>.bias` [out],
// `<name>.lora_A.weight` [r, in], `<name>.lora_B.weight` [out, r] (DiffSynth keys minus ".default").
import type { Tensor } from '../graph.js';
import { GraphBuildError, ShapeError } from '../errors.js';
import type { ParamSource } from '../params.js';
import { linearInit, zerosInit } from '../params.js';
import { add, cast } from '../ops/elementwise.js';
import { gemm } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';

export interface LoraConfig {
  rank: number;
  /** Scale is alpha/rank; alpha defaults to the rank (scale 1), as DiffSynth and PEFT do. */
  alpha?: number;
  /** Which linears (by full name) get an adapter; all of them when omitted. */
  targets?: (name: string) => boolean;
}

export interface Weights {
  frozen: ParamSource;
  trainable: ParamSource;
  lora?: LoraConfig | null;
}

/** Casts a parameter to the activations' dtype (e.g. fp32 master LoRA weights in an fp16 graph). */
function like(p: Tensor, x: Tensor): Tensor {
  return p.dtype === x.dtype ? p : cast(p, x.dtype);
}

/**
 * y = x Wᵀ + b, on the last axis of x with a PyTorch [out, in] weight. Rows are folded into one 2-D
 * Gemm(transB=1): no Transpose node for the weight in the forward or the backward, and the weight
 * gradient (when needed) is one Gemm as well.
 */
export function linear2d(x: Tensor, weight: Tensor, bias: Tensor | null, alpha = 1): Tensor {
  const inF = x.shape[x.rank - 1]!;
  if (weight.rank !== 2 || weight.shape[1] !== inF) throw new ShapeError('Linear', [x.shape, weight.shape], `weight must be [out, ${inF}]`);
  const outF = weight.shape[0]!;
  const rows = x.rank === 2 ? x : reshape(x, [-1, inF]);
  const y = gemm(rows, like(weight, x), bias ? like(bias, x) : null, { transB: true, alpha });
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), outF]);
}

/**
 * A linear layer named `name` (in → out). When LoRA applies to it, adds (alpha/r)·(x Aᵀ) Bᵀ with a
 * trainable A [r, in] (Kaiming-uniform like PEFT) and B [out, r] (zeros, so training starts at the
 * base model). The scale is applied to the rank-r intermediate, the cheapest place.
 */
export function loraLinear(w: Weights, name: string, x: Tensor, inF: number, outF: number, opts: { bias?: boolean } = {}): Tensor {
  if (x.shape[x.rank - 1] !== inF) throw new ShapeError('Linear', [x.shape], `${name}: expected ${inF} input features`);
  const weight = w.frozen.param(`${name}.weight`, [outF, inF], linearInit(inF));
  const bias = opts.bias === false ? null : w.frozen.param(`${name}.bias`, [outF], linearInit(inF));
  const lora = w.lora;
  if (!lora || (lora.targets && !lora.targets(name))) return linear2d(x, weight, bias);
  if (!Number.isInteger(lora.rank) || lora.rank < 1) throw new GraphBuildError('LoRA', `rank must be a positive integer, got ${lora.rank}`);
  const a = w.trainable.param(`${name}.lora_A.weight`, [lora.rank, inF], linearInit(inF));
  const b = w.trainable.param(`${name}.lora_B.weight`, [outF, lora.rank], zerosInit);
  const scale = (lora.alpha ?? lora.rank) / lora.rank;
  // Fold rows once for the three products (fewer Reshapes: graph size drives session-open time).
  const rows = x.rank === 2 ? x : reshape(x, [-1, inF]);
  const y = add(linear2d(rows, weight, bias), linear2d(linear2d(rows, a, null, scale), b, null));
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), outF]);
}

/** A plain trainable linear (no LoRA), e.g. a new head trained from scratch. */
export function trainableLinear(w: Weights, name: string, x: Tensor, inF: number, outF: number, opts: { bias?: boolean } = {}): Tensor {
  const weight = w.trainable.param(`${name}.weight`, [outF, inF], linearInit(inF));
  const bias = opts.bias === false ? null : w.trainable.param(`${name}.bias`, [outF], linearInit(inF));
  return linear2d(x, weight, bias);
}

/** The merged weight W + (alpha/r)·B·A on the host, for export or checking (row-major [out, in]). */
export function mergeLoraReference(weight: Float32Array, a: Float32Array, b: Float32Array, outF: number, inF: number, rank: number, alpha = rank): Float32Array {
  const out = Float32Array.from(weight);
  const s = alpha / rank;
  for (let o = 0; o < outF; o++) for (let r = 0; r < rank; r++) {
    const bv = b[o * rank + r]! * s;
    if (bv === 0) continue;
    for (let i = 0; i < inF; i++) out[o * inF + i]! += bv * a[r * inF + i]!;
  }
  return out;
}
