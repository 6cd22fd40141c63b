// Optimizers as graph fragments over ONE flat parameter vector (see params.ts): a training graph
// appends an AdamW update after its backward pass, so forward + backward + update run in a single
// ONNX session whose new params / moments are fed back as the next step's inputs. Working on one
// flat vector keeps the update at about a dozen nodes whatever the number of parameter tensors
// (per-tensor updates made 30-layer graphs of 8.5k nodes that took seconds to open).
//
// step and lr are graph INPUTS (scalars), so bias correction and any learning-rate schedule change
// per step without rebuilding the session. JS reference implementations sit beside each fragment;
// the tests hold the graph to them.
import type { Graph, Tensor } from './graph.js';
import type { DType } from './dtype.js';
import { GraphBuildError, ShapeError } from './errors.js';
import { add, div, min, mul, pow, sqrt, sub } from './ops/elementwise.js';
import { reshape } from './ops/shape.js';
import { reduceSum } from './ops/reduce.js';
import { sameShape } from './ops/broadcast.js';

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW): p ← p·(1 − lr·wd) before the Adam step. */
  weightDecay?: number;
  /** Clip the gradient to this global L2 norm first (cheap on a flat vector); off when unset. */
  maxGradNorm?: number;
}

const DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } as const;

/** The optimizer's graph inputs: everything a step reads besides the gradient. */
export interface AdamWInputs {
  params: Tensor;
  m: Tensor;
  v: Tensor;
  /** 1-based index of this update (float scalar), as in PyTorch's `state['step']` after increment. */
  step: Tensor;
  /** Learning rate for this step (float scalar), so schedules need no rebuild. */
  lr: Tensor;
}

export interface AdamWOutputs {
  params: Tensor;
  m: Tensor;
  v: Tensor;
  /** step + 1: feed it back as the next step's `step`. */
  step: Tensor;
  /** Global L2 norm of the (unclipped) gradient, for logging; always computed when clipping. */
  gradNorm: Tensor | null;
}

/**
 * Declares the optimizer inputs of a training graph: `params`, `m`, `v` as [n] vectors and `step`,
 * `lr` as scalars. Names are prefixed when `prefix` is given (two optimizers in one graph).
 */
export function adamwInputs(g: Graph, n: number, dtype: DType = 'float32', prefix = ''): AdamWInputs {
  const name = (s: string): string => (prefix ? `${prefix}.${s}` : s);
  return {
    params: g.input(name('params'), dtype, [n]),
    m: g.input(name('adam_m'), dtype, [n]),
    v: g.input(name('adam_v'), dtype, [n]),
    step: g.input(name('step'), dtype, []),
    lr: g.input(name('lr'), dtype, []),
  };
}

function checkVectors(op: string, ts: Tensor[]): void {
  const [first] = ts;
  if (!first) return;
  for (const t of ts) {
    if (!sameShape(t.shape, first.shape) || t.dtype !== first.dtype) {
      throw new ShapeError(op, ts.map((x) => x.shape), `params, grad and moments must share shape and dtype (got ${ts.map((x) => x.toString()).join(', ')})`);
    }
  }
}

function checkScalar(op: string, t: Tensor, what: string, dtype: DType): void {
  if (t.size !== 1 || t.dtype !== dtype) throw new ShapeError(op, [t.shape], `${what} must be a one-element ${dtype} tensor, got ${t.toString()}`);
}

/** The global L2 norm of a tensor (one ReduceSum over its square). */
export function l2Norm(x: Tensor): Tensor {
  return sqrt(reduceSum(mul(x, x)));
}

/**
 * One AdamW step, identical to PyTorch's torch.optim.AdamW (non-amsgrad):
 *   m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²
 *   p' = p·(1 − lr·wd) − lr_t · m' / (√v' + ε·√(1−β2^t)),  lr_t = lr·√(1−β2^t)/(1−β1^t)
 * Folding both bias corrections into lr_t (computed on scalars with Pow) keeps the vector work to
 * one division; scaling ε by √(1−β2^t) makes it algebraically equal to PyTorch's
 * (lr/(1−β1^t))·m'/(√v'/√(1−β2^t) + ε), so PyTorch hyperparameters transfer unchanged.
 */
export function adamw(state: AdamWInputs, gradient: Tensor, config: AdamWConfig = {}): AdamWOutputs {
  const { params, m, v, step, lr } = state;
  checkVectors('AdamW', [params, gradient, m, v]);
  checkScalar('AdamW', step, 'step', params.dtype);
  checkScalar('AdamW', lr, 'lr', params.dtype);
  const c = { ...DEFAULTS, ...config };
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1)) throw new GraphBuildError('AdamW', `betas must lie in [0, 1), got ${c.beta1}, ${c.beta2}`);
  const g = params.graph;
  const dt = params.dtype;
  const stepScalar = reshape(step, []);
  const lrScalar = reshape(lr, []);

  let grad = gradient;
  let gradNorm: Tensor | null = null;
  if (c.maxGradNorm !== undefined) {
    // PyTorch clip_grad_norm_: g · min(1, max_norm / (‖g‖ + 1e-6)).
    gradNorm = l2Norm(gradient);
    const factor = min(div(c.maxGradNorm, add(gradNorm, 1e-6)), 1);
    grad = mul(gradient, factor);
  }

  // Scalars: bias corrections and the effective step size.
  const bc1 = sub(1, pow(g.scalar(c.beta1, dt), stepScalar));
  const sqrtBc2 = sqrt(sub(1, pow(g.scalar(c.beta2, dt), stepScalar)));
  const lrT = div(mul(lrScalar, sqrtBc2), bc1);
  const epsT = mul(sqrtBc2, c.eps);

  // Vectors: moments, then the decoupled decay and the Adam step.
  const m2 = add(mul(m, c.beta1), mul(grad, 1 - c.beta1));
  const v2 = add(mul(v, c.beta2), mul(mul(grad, grad), 1 - c.beta2));
  const update = mul(div(m2, add(sqrt(v2), epsT)), lrT);
  const decayed = c.weightDecay === 0 ? params : mul(params, sub(1, mul(lrScalar, c.weightDecay)));
  const p2 = sub(decayed, update);
  const step2 = add(step, 1);
  return { params: p2, m: m2, v: v2, step: step2, gradNorm };
}

/** EMA of parameters: ema' = decay·ema + (1 − decay)·p. `decay` may be a scalar input (warm-up schedules). */
export function ema(average: Tensor, params: Tensor, decay: Tensor | number): Tensor {
  checkVectors('EMA', [average, params]);
  if (typeof decay !== 'number') checkScalar('EMA', decay, 'decay', params.dtype);
  else if (!(decay >= 0 && decay <= 1)) throw new GraphBuildError('EMA', `decay must lie in [0, 1], got ${decay}`);
  if (typeof decay === 'number') return add(mul(average, decay), mul(params, 1 - decay));
  const d = reshape(decay, []);
  return add(mul(average, d), mul(params, sub(1, d)));
}

// --- JS references (float64 arithmetic) used by the tests and by callers that update on the host. ---

export interface AdamWHostState {
  params: Float32Array | Float64Array;
  m: Float32Array | Float64Array;
  v: Float32Array | Float64Array;
}

/** One AdamW step on host arrays, in place, exactly as torch.optim.AdamW. Returns the gradient norm. */
export function adamwReference(state: AdamWHostState, grad: ArrayLike<number>, step: number, lr: number, config: AdamWConfig = {}): number {
  const c = { ...DEFAULTS, ...config };
  const { params, m, v } = state;
  let norm = 0;
  for (let i = 0; i < grad.length; i++) norm += grad[i]! * grad[i]!;
  norm = Math.sqrt(norm);
  const clip = c.maxGradNorm !== undefined ? Math.min(1, c.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - Math.pow(c.beta1, step);
  const bc2 = 1 - Math.pow(c.beta2, step);
  for (let i = 0; i < params.length; i++) {
    const gi = grad[i]! * clip;
    m[i] = c.beta1 * m[i]! + (1 - c.beta1) * gi;
    v[i] = c.beta2 * v[i]! + (1 - c.beta2) * gi * gi;
    params[i] = params[i]! * (1 - lr * c.weightDecay);
    params[i] = params[i]! - (lr / bc1) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + c.eps));
  }
  return norm;
}

/** EMA on host arrays, in place. */
export function emaReference(average: Float32Array | Float64Array, params: ArrayLike<number>, decay: number): void {
  for (let i = 0; i < average.length; i++) average[i] = decay * average[i]! + (1 - decay) * params[i]!;
}
