// Reverse-mode automatic differentiation over a recorded graph.
// - A forward sweep marks the tensors that depend on the requested parameters; only those get
//   gradients (frozen weights and constants get none: no wasted dW for LoRA's base weights).
// - A reverse sweep applies each node's VJP rule, asking it only for the inputs that need one.
// - Several contributions to one tensor are summed with chained binary Add (WebGPU has no variadic Sum).
import type { Tensor } from './graph.js';
import { GraphBuildError, callerFrame } from './errors.js';
import { isFloat } from './dtype.js';
import { NON_DIFFERENTIABLE, vjpFor } from './vjp-registry.js';
import './ops/index.js';
import { add } from './ops/elementwise.js';
import { expandTo } from './ops/shape.js';

export interface GradOptions {
  /** Gradient of the final output; defaults to 1 for a scalar (one-element) loss. */
  seed?: Tensor;
}

/** Returns d(loss)/d(w) for each w in `wrt` (zeros where loss does not depend on w). */
export function grad(loss: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  const g = loss.graph;
  const caller = callerFrame();
  if (!opts.seed && loss.size !== 1) {
    throw new GraphBuildError('grad', `loss ${loss.name} has shape [${loss.shape.join(',')}]; pass a seed gradient or reduce it to one value`, caller);
  }
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphBuildError('grad', `${w.name} belongs to another graph`, caller);
    if (!isFloat(w.dtype)) throw new GraphBuildError('grad', `${w.name} is ${w.dtype}; only float tensors have gradients`, caller);
  }

  // Forward sweep: which tensors depend on a requested parameter.
  const live = new Set<number>(wrt.map((w) => w.id));
  for (const node of g.nodes) {
    if (NON_DIFFERENTIABLE.has(node.opType)) continue;
    if (node.inputs.some((t) => t && live.has(t.id))) for (const o of node.outputs) if (isFloat(o.dtype)) live.add(o.id);
  }

  const grads = new Map<number, Tensor>();
  const accumulate = (t: Tensor, gt: Tensor): void => {
    if (gt.dtype !== t.dtype || gt.shape.length !== t.shape.length || gt.shape.some((d, i) => d !== t.shape[i])) {
      throw new GraphBuildError('grad', `VJP produced ${gt.toString()} for ${t.toString()} (producer ${t.producer?.opType ?? t.kind})`, caller);
    }
    const prev = grads.get(t.id);
    grads.set(t.id, prev ? add(prev, gt) : gt);
  };
  accumulate(loss, opts.seed ?? g.constant(loss.dtype, loss.shape, new Array(loss.size).fill(1)));

  // Reverse sweep over the nodes between the parameters and the loss.
  const lossIndex = g.nodes.indexOf(loss.producer!);
  for (let n = lossIndex; n >= 0; n--) {
    const node = g.nodes[n]!;
    const gOut = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (gOut.every((x) => x === null)) continue;
    const needs = node.inputs.map((t) => !!t && live.has(t.id));
    if (!needs.some(Boolean)) continue;
    const rule = vjpFor(node);
    if (!rule) {
      throw new GraphBuildError('grad', `no VJP for ${node.domain ? node.domain + '.' : ''}${node.opType} (node ${node.name}); use the primitive-op form of this op in training graphs`, caller);
    }
    const gIn = rule({ graph: g, node, needs: (i) => needs[i] ?? false }, gOut);
    node.inputs.forEach((t, i) => {
      const gi = gIn[i];
      if (t && needs[i] && gi) accumulate(t, gi);
    });
  }

  return wrt.map((w) => grads.get(w.id) ?? expandTo(g.scalar(0, w.dtype), w.shape));
}
