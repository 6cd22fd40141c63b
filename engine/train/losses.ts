// The two training objectives of ReFree-S2V as graph fragments (seed/refree-s2v-paper.md).
//
// SFT — flow-matching velocity loss with regional weights:
//   e_b = Σ_{c,f,y,x} w_{f,y,x} · (v̂ − v)²  /  (C · Σ_{f,y,x} w_{f,y,x})        per batch item b
//   L_SFT = mean_b e_b
// w comes from the lip and face masks on the latent grid (regions.ts: lip 100, face 30, rest 1) and is
// 0 on the reference / motion frames, which the model is given clean. Dividing by Σw makes the loss a
// weighted MEAN, so its scale (and the learning rate that suits it) does not depend on how much of a
// frame the face covers; the RELATIVE weights are the paper's.
//
// Masked-speech DPO over an ordered tuple x_0 ≻ x_1 ≻ … ≻ x_{K−1} (ground truth first, then the model's
// own generations with growing speech masking), all noised with ONE noise and ONE timestep:
//   d_k = e_θ(k) − e_ref(k)                                    e: per-element mean squared velocity error
//   L_DPO = Σ_{i<j} −log σ(−β·ω_t·(d_i − d_j)) = Σ_{i<j} softplus(β·ω_t·(d_i − d_j))
// This is the paper's loss with the sign convention of diffusers' Diffusion-DPO (train_diffusion_dpo.py:
// `-F.logsigmoid(-0.5 * beta * (model_diff - ref_diff))` where the diffs are winner − loser MSEs).
// Our β multiplies the full difference, without the ½: β = 2500 here equals β = 5000 in the original
// code's −½β form. The policy wins a pair when it lowered its error on the better sample relative to
// the reference more than on the worse one (d_i < d_j).
import type { Tensor } from '../graph/graph.js';
import { ShapeError } from '../graph/errors.js';
import { div, mul, sub } from '../graph/ops/elementwise.js';
import { softplus } from '../graph/ops/elementwise.js';
import { reduceMean, reduceSum } from '../graph/ops/reduce.js';
import { reshape, unsqueeze } from '../graph/ops/shape.js';

/**
 * Per-item weighted mean squared error [B]: pred/target [B, C, F, h, w], weight [B, 1, F, h, w]
 * (broadcast over channels). Items whose weights are all zero are not allowed (nothing to learn).
 */
export function weightedVelocityError(pred: Tensor, target: Tensor, weight: Tensor): Tensor {
  const shapes = [pred.shape, target.shape, weight.shape];
  if (pred.rank !== 5 || target.shape.join() !== pred.shape.join()) throw new ShapeError('VelocityLoss', shapes, 'prediction and target must both be [B, C, F, h, w]');
  const [B, C, F, h, w] = pred.shape as [number, number, number, number, number];
  if (weight.shape.join() !== [B, 1, F, h, w].join()) throw new ShapeError('VelocityLoss', shapes, `weights must be [${B}, 1, ${F}, ${h}, ${w}] (one per latent cell, shared by the channels)`);
  const d = sub(pred, target);
  const num = reduceSum(mul(mul(d, d), weight), [1, 2, 3, 4]); // [B]
  const den = mul(reduceSum(weight, [1, 2, 3, 4]), C); // [B]
  return div(num, den);
}

/** Per-item plain mean squared error over every element [B] (the DPO's e). */
export function meanVelocityError(pred: Tensor, target: Tensor, weight?: Tensor): Tensor {
  if (weight) return weightedVelocityError(pred, target, weight);
  if (pred.shape.join() !== target.shape.join()) throw new ShapeError('VelocityError', [pred.shape, target.shape], 'prediction and target must have the same shape');
  const d = sub(pred, target);
  return reduceMean(reshape(mul(d, d), [pred.shape[0]!, -1]), [1]);
}

/** L_SFT: the batch mean of the per-item weighted errors (a scalar). */
export function regionalSftLoss(pred: Tensor, target: Tensor, weight: Tensor): Tensor {
  return reduceMean(weightedVelocityError(pred, target, weight));
}

export interface DpoLossParts {
  /** Scalar loss (sum over the ordered pairs, mean over tuples). */
  loss: Tensor;
  /** d_k = e_θ(k) − e_ref(k), [T, K] (for the implicit accuracy and logging). */
  relative: Tensor;
}

/**
 * L_DPO over tuples: errors e_θ and e_ref of shape [T, K] (T tuples of K ranked samples, best first),
 * β a number, ω_t a tensor [T] (one weight per tuple's timestep) or a number.
 */
export function dpoLoss(policyErr: Tensor, refErr: Tensor, beta: number, omega: Tensor | number = 1): DpoLossParts {
  if (policyErr.rank !== 2 || refErr.shape.join() !== policyErr.shape.join()) throw new ShapeError('DPO', [policyErr.shape, refErr.shape], 'policy and reference errors must both be [tuples, K]');
  const [T, K] = policyErr.shape as [number, number];
  if (K < 2) throw new ShapeError('DPO', [policyErr.shape], 'a tuple needs at least two ranked samples');
  if (typeof omega !== 'number' && omega.shape.join() !== [T].join()) throw new ShapeError('DPO', [policyErr.shape, omega.shape], `ω_t must be [${T}] (one per tuple)`);
  const g = policyErr.graph;
  const rel = sub(policyErr, refErr); // [T, K]
  const diff = sub(unsqueeze(rel, [2]), unsqueeze(rel, [1])); // [T, K, K]: d_i − d_j
  const scale = typeof omega === 'number' ? beta * omega : reshape(mul(omega, beta), [T, 1, 1]);
  const pairs: number[] = [];
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) pairs.push(i < j ? 1 : 0);
  const upper = g.constant(policyErr.dtype, [1, K, K], pairs);
  const perPair = mul(softplus(mul(diff, scale)), upper);
  return { loss: div(reduceSum(perPair), T), relative: rel };
}

/**
 * Mean over tuples of e_θ[t, 0], the policy's error on each tuple's ground truth (sample 0): the SFT
 * anchor a DPO step may add, computed as mean(e_θ · k·onehot₀).
 */
export function groundTruthError(policyErr: Tensor): Tensor {
  if (policyErr.rank !== 2) throw new ShapeError('DPO', [policyErr.shape], 'policy errors must be [tuples, K]');
  const k = policyErr.shape[1]!;
  const first = policyErr.graph.constant(policyErr.dtype, [1, k], Array.from({ length: k }, (_, j) => (j === 0 ? k : 0)));
  return reduceMean(mul(policyErr, first));
}

/** The host-side reference of dpoLoss for one tuple (tests; the trainer's metrics). */
export function dpoLossReference(policyErr: readonly number[], refErr: readonly number[], beta: number, omega = 1): { loss: number; accuracy: number } {
  const d = policyErr.map((e, k) => e - refErr[k]!);
  let loss = 0;
  let won = 0;
  let pairs = 0;
  for (let i = 0; i < d.length; i++) {
    for (let j = i + 1; j < d.length; j++) {
      const z = beta * omega * (d[i]! - d[j]!);
      loss += z > 30 ? z : Math.log1p(Math.exp(z));
      if (d[i]! < d[j]!) won++;
      pairs++;
    }
  }
  return { loss, accuracy: pairs ? won / pairs : 0 };
}

/** Fraction of ordered pairs (i < j) the policy ranks right (d_i < d_j), from d [K]. */
export function implicitAccuracy(relative: ArrayLike<number>): number {
  let won = 0;
  let pairs = 0;
  for (let i = 0; i < relative.length; i++) {
    for (let j = i + 1; j < relative.length; j++) {
      if (relative[i]! < relative[j]!) won++;
      pairs++;
    }
  }
  return pairs ? won / pairs : 0;
}
