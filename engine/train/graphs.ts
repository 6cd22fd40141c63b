// The training graphs of ReFree-S2V, each one ONNX graph run by one session:
//
//   SFT step   params, adam_m, adam_v, step, lr, grad_extra, grad_scale + a batch
//              → loss, grad, params_out, adam_m_out, adam_v_out, grad_norm
//   DPO step   the same optimizer I/O + ref_params + a batch of ranked tuples + omega
//              → loss, policy_err [T,K], ref_err [T,K], grad, params_out, adam_m_out, adam_v_out, grad_norm
//   velocity   params + the model inputs → velocity (sampling the DPO negatives and sample videos with
//              the parameters being trained, before they are saved anywhere)
//
// The policy reads its trainable tensors from `params` and the frozen ones from the base package's
// files; the DPO reference is the same network reading `ref_params` (an EMA of the policy or a frozen
// copy), built in the same graph so both share one copy of the frozen weights, and not differentiated.
// Gradient accumulation runs the step k times: the first k−1 with lr 0 (the update is discarded and
// only `grad` is kept), the last with grad_extra = Σ earlier grads and grad_scale = 1/k.
import { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/graph.js';
import { GraphBuildError } from '../graph/errors.js';
import type { AttentionImpl } from '../graph/ops/attention.js';
import { add, cast, mul } from '../graph/ops/elementwise.js';
import { reshape } from '../graph/ops/shape.js';
import { adamw, l2Norm } from '../graph/optim.js';
import type { AdamWConfig } from '../graph/optim.js';
import type { DitConfig } from '../model/config.js';
import type { LinearHook } from '../model/dit/weights.js';
import { isLoraTarget } from '../model/lora/config.js';
import { loraHook } from '../model/lora/hook.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { videoFramesFor } from '../model/refree/frames.js';
import { refreeForward } from '../model/refree/model.js';
import type { WeightProvider } from '../model/weight-provider.js';
import { dpoLoss, groundTruthError, meanVelocityError, regionalSftLoss } from './losses.js';
import type { TrainableSet } from './trainable.js';
import { TrainableProvider } from './trainable.js';

export interface TrainModel {
  dit: DitConfig;
  refree: ReFreeConfig;
  set: TrainableSet;
  /** The base package's weights (frozen initializers). */
  frozen: WeightProvider;
  /** Activation dtype of the DiT (float32 here; float16 for large models on a GPU). */
  dtype?: 'float32' | 'float16';
  attention?: AttentionImpl;
  blockSize?: number;
  /** Per-block activation recomputation (graph/recompute.ts). */
  recompute?: boolean;
}

export interface BatchShape {
  /** Items (SFT) or tuples × K (DPO). */
  batch: number;
  /** Latent frames, reference frame included. */
  frames: number;
  h: number;
  w: number;
}

export interface OptimizerSettings extends AdamWConfig {
  /** Clip the gradient to this global L2 norm (default 1). */
  maxGradNorm?: number;
}

interface ModelInputs {
  latents: Tensor;
  timesteps: Tensor;
  context: Tensor;
  speech: Tensor;
  speechMask: Tensor;
}

function modelInputs(g: Graph, m: TrainModel, s: BatchShape): ModelInputs {
  const dt = m.dtype ?? 'float32';
  const Tv = videoFramesFor(s.frames, m.refree.temporalStride);
  return {
    latents: g.input('latents', dt, [s.batch, m.dit.inDim, s.frames, s.h, s.w]),
    timesteps: g.input('timesteps', 'float32', [s.batch, s.frames]),
    context: g.input('context', dt, [s.batch, m.dit.textLen, m.dit.textDim]),
    speech: g.input('speech_features', dt, [s.batch, Tv, m.refree.speechDim]),
    speechMask: g.input('speech_mask', 'float32', [s.batch, Tv]),
  };
}

/** The LoRA hook over the trainable provider; linears trained in full get no adapter. */
function linearHook(m: TrainModel, provider: WeightProvider): LinearHook | undefined {
  const lora = m.set.lora;
  if (!lora) return undefined;
  const hook = loraHook(lora, provider);
  return (name, x, base) => (isLoraTarget(lora, name) && m.set.layout.has(`${name}.lora_A.weight`) ? hook(name, x, base) : base(x));
}

/** The ReFree-S2V velocity with the weights of `provider` (trainable slices + frozen base). */
export function velocityWith(g: Graph, m: TrainModel, provider: WeightProvider, x: ModelInputs): Tensor {
  const v = refreeForward(g, m.dit, m.refree, provider, { latents: x.latents, timesteps: x.timesteps, context: x.context, speech: x.speech, speechMask: x.speechMask }, {
    attention: m.attention ?? 'naive',
    blockSize: m.blockSize,
    recompute: m.recompute,
    linear: linearHook(m, provider),
    timestepPrecision: 'compute',
  });
  return v;
}

export interface OptimizerIO {
  params: Tensor;
  m: Tensor;
  v: Tensor;
  step: Tensor;
  lr: Tensor;
  gradExtra: Tensor;
  gradScale: Tensor;
}

export function optimizerInputs(g: Graph, n: number, params: Tensor): OptimizerIO {
  return {
    params,
    m: g.input('adam_m', 'float32', [n]),
    v: g.input('adam_v', 'float32', [n]),
    step: g.input('step', 'float32', []),
    lr: g.input('lr', 'float32', []),
    gradExtra: g.input('grad_extra', 'float32', [n]),
    gradScale: g.input('grad_scale', 'float32', []),
  };
}

/** Appends the update: outputs grad (this batch's own), params/m/v out and the clipped-norm input. */
export function update(g: Graph, io: OptimizerIO, grad: Tensor, opt: OptimizerSettings): Tensor[] {
  const total = mul(add(grad, io.gradExtra), reshape(io.gradScale, []));
  const next = adamw({ params: io.params, m: io.m, v: io.v, step: io.step, lr: io.lr }, total, { weightDecay: 0.01, maxGradNorm: 1, ...opt });
  return [g.alias(grad, 'grad'), g.alias(next.params, 'params_out'), g.alias(next.m, 'adam_m_out'), g.alias(next.v, 'adam_v_out'), g.alias(next.gradNorm ?? l2Norm(total), 'grad_norm')];
}

export interface BuiltTrainGraph {
  graph: Graph;
  outputs: Tensor[];
}

/** SFT step: the regional velocity loss, its gradient and the AdamW update. Data inputs: the model's + target, weight. */
export function buildSftGraph(m: TrainModel, s: BatchShape, opt: OptimizerSettings = {}): BuiltTrainGraph {
  const g = new Graph('refree_sft_step');
  const provider = new TrainableProvider(g, m.set, m.frozen);
  const io = optimizerInputs(g, m.set.layout.size, provider.source.flat);
  const x = modelInputs(g, m, s);
  const target = g.input('target', 'float32', [s.batch, m.dit.outDim, s.frames, s.h, s.w]);
  const weight = g.input('weight', 'float32', [s.batch, 1, s.frames, s.h, s.w]);
  let v = velocityWith(g, m, provider, x);
  if (v.dtype !== 'float32') v = castTo32(v);
  const loss = regionalSftLoss(v, target, weight);
  const grad = provider.source.gradient(loss);
  return { graph: g, outputs: [g.alias(loss, 'loss'), ...update(g, io, grad, opt)] };
}

export interface DpoShape extends Omit<BatchShape, 'batch'> {
  /** Tuples per step. */
  tuples: number;
  /** Ranked samples per tuple: the ground truth plus the negatives. */
  k: number;
}

export interface DpoGraphSettings extends OptimizerSettings {
  beta: number;
  /** Weight the per-item error by the regional weights (default: the plain per-element mean). */
  regional?: boolean;
  /** λ of the policy's mean error on the ground truth (sample 0 of each tuple) added to the loss. */
  sftWeight?: number;
}

/**
 * DPO step over `tuples` tuples of k ranked samples, laid out tuple-major in the batch (item t·k + j is
 * sample j of tuple t). Data inputs: the model's + target, weight, omega [tuples], ref_params [N].
 */
export function buildDpoGraph(m: TrainModel, s: DpoShape, opt: DpoGraphSettings): BuiltTrainGraph {
  if (s.k < 2) throw new GraphBuildError('DPO', 'a tuple needs the ground truth and at least one negative');
  const g = new Graph('refree_dpo_step');
  const n = m.set.layout.size;
  const policy = new TrainableProvider(g, m.set, m.frozen);
  const reference = new TrainableProvider(g, m.set, m.frozen, { name: 'ref_params' });
  const io = optimizerInputs(g, n, policy.source.flat);
  const B = s.tuples * s.k;
  const x = modelInputs(g, m, { batch: B, frames: s.frames, h: s.h, w: s.w });
  const target = g.input('target', 'float32', [B, m.dit.outDim, s.frames, s.h, s.w]);
  const weight = g.input('weight', 'float32', [B, 1, s.frames, s.h, s.w]);
  const omega = g.input('omega', 'float32', [s.tuples]);
  const err = (v: Tensor): Tensor => {
    const v32 = v.dtype === 'float32' ? v : castTo32(v);
    // Zero-weight cells (the clean reference frame) never count; `regional` adds the lip/face weights.
    return reshape(meanVelocityError(v32, target, weight), [s.tuples, s.k]);
  };
  const pe = err(velocityWith(g, m, policy, x));
  // The reference is a second forward that no gradient reaches (autodiff only follows `params`).
  const re = err(velocityWith(g, m, reference, x));
  const { loss: dpo } = dpoLoss(pe, re, opt.beta, omega);
  const loss = opt.sftWeight ? add(dpo, mul(groundTruthError(pe), opt.sftWeight)) : dpo;
  const grad = policy.source.gradient(loss);
  return { graph: g, outputs: [g.alias(loss, 'loss'), g.alias(pe, 'policy_err'), g.alias(re, 'ref_err'), ...update(g, io, grad, opt)] };
}

/** Velocity with the parameters being trained: inputs params + the model's; output velocity. */
export function buildVelocityGraph(m: TrainModel, s: BatchShape): BuiltTrainGraph {
  const g = new Graph('refree_velocity');
  const provider = new TrainableProvider(g, m.set, m.frozen);
  const x = modelInputs(g, m, s);
  const v = velocityWith(g, m, provider, x);
  return { graph: g, outputs: [g.alias(v, 'velocity')] };
}

function castTo32(t: Tensor): Tensor {
  return cast(t, 'float32');
}
