// One training step as one ONNX graph: forward, loss, backward (autodiff) and AdamW on the flat
// parameter vector. Inputs: params, adam_m, adam_v, step, lr and the model's data inputs; outputs:
// loss and the next params/m/v/step, which engine/exec/trainer.ts feeds back as the next step's
// inputs. Only graph building lives here: running the graph needs ORT, which sits above the graph layer.
import { Graph } from '../graph.js';
import type { Tensor } from '../graph.js';
import type { DType } from '../dtype.js';
import { GraphBuildError } from '../errors.js';
import type { ParamLayout, ParamSource } from '../params.js';
import { FlatParams, InitializerParams, InputParams, LayoutCollector } from '../params.js';
import type { AdamWConfig } from '../optim.js';
import { adamw } from '../optim.js';
import type { LoraConfig, Weights } from './lora.js';

export interface TrainGraphSpec {
  /** Builds the model and returns its scalar loss; creates its own data inputs on `g`. */
  loss: (g: Graph, w: Weights) => Tensor;
  /** LoRA adapters are the trainable set; null trains every parameter (full fine-tuning). */
  lora: LoraConfig | null;
  /** Where frozen weights come from (default: inline initializers, seeded). Unused without LoRA. */
  frozen?: (g: Graph) => ParamSource;
  adam?: AdamWConfig;
  /** dtype of the flat vector and optimizer state. */
  dtype?: DType;
}

export interface TrainGraph {
  graph: Graph;
  layout: ParamLayout;
  loss: Tensor;
  /** loss, params_out, adam_m_out, adam_v_out, step_out */
  outputs: Tensor[];
}

function weightsFor(g: Graph, trainable: ParamSource, spec: { lora: LoraConfig | null; frozen?: (g: Graph) => ParamSource }, scratch: boolean): Weights {
  if (!spec.lora) return { frozen: trainable, trainable, lora: null };
  // The layout pass never runs its graph: frozen weights there are plain inputs (nothing allocated).
  const frozen = scratch ? new InputParams(g, trainable.dtype) : (spec.frozen?.(g) ?? new InitializerParams(g, 'float32'));
  return { frozen, trainable, lora: spec.lora };
}

/** Runs the model code once on a scratch graph to learn the trainable layout. */
export function trainableLayout(build: (g: Graph, w: Weights) => unknown, lora: LoraConfig | null, dtype: DType = 'float32'): ParamLayout {
  const g = new Graph('layout');
  const c = new LayoutCollector(g, dtype);
  build(g, weightsFor(g, c, { lora }, true));
  if (c.layout.size === 0) throw new GraphBuildError('trainableLayout', 'the model declared no trainable parameters');
  // Matrices with equal column counts side by side: fewer Slice/Reshape nodes (params.ts).
  return c.layout.grouped();
}

export function buildTrainGraph(spec: TrainGraphSpec): TrainGraph {
  const dtype = spec.dtype ?? 'float32';
  const layout = trainableLayout(spec.loss, spec.lora, dtype);
  const g = new Graph('train_step');
  const flat = FlatParams.bind(g, layout, { dtype });
  const m = g.input('adam_m', dtype, [layout.size]);
  const v = g.input('adam_v', dtype, [layout.size]);
  const step = g.input('step', dtype, []);
  const lr = g.input('lr', dtype, []);
  const loss = spec.loss(g, weightsFor(g, flat, spec, false));
  if (loss.size !== 1) throw new GraphBuildError('buildTrainGraph', `loss must be a single value, got ${loss.toString()}`);
  const next = adamw({ params: flat.flat, m, v, step, lr }, flat.gradient(loss), spec.adam);
  const outputs = [g.alias(loss, 'loss'), g.alias(next.params, 'params_out'), g.alias(next.m, 'adam_m_out'), g.alias(next.v, 'adam_v_out'), g.alias(next.step, 'step_out')];
  return { graph: g, layout, loss, outputs };
}

/**
 * A forward-only graph over the same flat layout (e.g. targets from a teacher, evaluation, or the
 * forward the bench compares a training step with). `build` returns the tensors to output.
 */
export function buildForwardGraph(build: (g: Graph, w: Weights) => Tensor[], layout: ParamLayout, spec: { lora: LoraConfig | null; frozen?: (g: Graph) => ParamSource; dtype?: DType }): { graph: Graph; outputs: Tensor[] } {
  const g = new Graph('forward');
  const flat = FlatParams.bind(g, layout, { dtype: spec.dtype ?? 'float32' });
  const outs = build(g, weightsFor(g, flat, spec, false));
  return { graph: g, outputs: outs.map((t, i) => g.alias(t, `out_${i}`)) };
}
