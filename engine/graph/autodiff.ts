// Reverse-mode automatic differentiation over a recorded graph.
// - A forward sweep marks the tensors that depend on the requested parameters; only those get
//   gradients (frozen weights and constants get none: no wasted dW for LoRA's base weights).
// - A reverse sweep applies each node's VJP rule, asking it only for the inputs that need one.
// - Several contributions to one tensor are summed with chained binary Add (WebGPU has no variadic Sum).
// - Recompute regions (recompute.ts) are differentiated on a re-emitted copy of their forward nodes.
import type { Node, Tensor } from './graph.js';
import { GraphBuildError, callerFrame } from './errors.js';
import { isFloat } from './dtype.js';
import { NON_DIFFERENTIABLE } from './vjp-types.js';
import { vjpFor } from './vjp-rules.js';
import { add } from './ops/elementwise.js';
import { expandTo } from './ops/shape.js';
import { cast, mul } from './ops/elementwise.js';
import { reduceSum } from './ops/reduce.js';
import { dependentNodes, recomputeRegions } from './recompute.js';
import type { RecomputeRegion } from './recompute.js';

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
  const checkGrad = (t: Tensor, gt: Tensor): void => {
    if (gt.dtype !== t.dtype || gt.shape.length !== t.shape.length || gt.shape.some((d, i) => d !== t.shape[i])) {
      throw new GraphBuildError('grad', `VJP produced ${gt.toString()} for ${t.toString()} (producer ${t.producer?.opType ?? t.kind})`, caller);
    }
  };
  const accumulate = (t: Tensor, gt: Tensor): void => {
    checkGrad(t, gt);
    const prev = grads.get(t.id);
    grads.set(t.id, prev ? add(prev, gt) : gt);
  };
  accumulate(loss, opts.seed ?? g.constant(loss.dtype, loss.shape, new Array(loss.size).fill(1)));

  // Recompute regions: their input-dependent nodes are skipped by the sweep and differentiated as a
  // whole, on a copy, when the sweep reaches the region's last such node.
  const regionAt = new Map<number, { region: RecomputeRegion; nodes: Node[] }>();
  const inRegion = new Set<number>();
  for (const r of recomputeRegions(g)) {
    const nodes = dependentNodes(g, r);
    if (nodes.length === 0) continue;
    nodes.forEach((n) => inRegion.add(n.id));
    regionAt.set(nodes[nodes.length - 1]!.id, { region: r, nodes });
  }

  /** Applies node's VJP given its output gradients; returns the input gradients it produced. */
  const applyRule = (node: Node, gOut: (Tensor | null)[], isLive: (t: Tensor) => boolean): (Tensor | null | undefined)[] | null => {
    const needs = node.inputs.map((t) => !!t && isLive(t));
    if (!needs.some(Boolean)) return null;
    const rule = vjpFor(node);
    if (!rule) {
      throw new GraphBuildError('grad', `no VJP for ${node.domain ? node.domain + '.' : ''}${node.opType} (node ${node.name}); use the primitive-op form of this op in training graphs`, caller);
    }
    return [...rule({ graph: g, node, needs: (i) => needs[i] ?? false }, gOut)];
  };

  const backpropRegion = (region: RecomputeRegion, nodes: Node[]): void => {
    const produced = new Set<number>(nodes.flatMap((n) => n.outputs.map((o) => o.id)));
    const seeds = [...produced].map((id) => grads.get(id)).filter((t): t is Tensor => !!t);
    if (seeds.length === 0 || !live.has(region.input.id)) return;
    // x' = x + 0·Σ ReduceSum(seeds): the copy can only start once the backward pass is here.
    const guard = mul(seeds.map((t) => reduceSum(t)).reduce((a, b) => add(a, b)), 0);
    const xr = add(region.input, guard.dtype === region.input.dtype ? guard : cast(guard, region.input.dtype));
    const copy = new Map<number, Tensor>([[region.input.id, xr]]);
    const original = new Map<number, Tensor>(); // copy id → original tensor
    const clones: Node[] = [];
    for (const n of nodes) {
      const inputs = n.inputs.map((t) => (t ? (copy.get(t.id) ?? t) : null));
      const outs = g.node(n.opType, inputs, n.attrs, n.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape })), { domain: n.domain, ...(n.lowering ? { lowering: n.lowering } : {}) });
      n.outputs.forEach((o, i) => {
        copy.set(o.id, outs[i]!);
        original.set(outs[i]!.id, o);
      });
      clones.push(outs[0]!.producer!);
    }
    original.set(xr.id, region.input);
    const local = new Map<number, Tensor>();
    for (const id of produced) {
      const gt = grads.get(id);
      if (gt) local.set(copy.get(id)!.id, gt);
    }
    const isLive = (t: Tensor): boolean => live.has((original.get(t.id) ?? t).id);
    const xGrads: Tensor[] = [];
    const outside: Tensor[] = [];
    for (let k = clones.length - 1; k >= 0; k--) {
      const node = clones[k]!;
      const gOut = node.outputs.map((o) => local.get(o.id) ?? null);
      if (gOut.every((x) => x === null)) continue;
      const gIn = applyRule(node, gOut, isLive);
      if (!gIn) continue;
      node.inputs.forEach((t, i) => {
        const gi = gIn[i];
        if (!t || !gi || !isLive(t)) return;
        const orig = original.get(t.id);
        if (orig && t.id !== xr.id) {
          checkGrad(t, gi);
          const prev = local.get(t.id);
          local.set(t.id, prev ? add(prev, gi) : gi);
        } else if (t.id === xr.id) xGrads.push(gi);
        else {
          outside.push(gi);
          accumulate(orig ?? t, gi);
        }
      });
    }
    if (xGrads.length === 0) return;
    // The input's gradient also waits for this block's parameter gradients (+ 0·Σ of them): ORT
    // reaches parameter gradients last (through the flat gradient's Concat), so without this the
    // recomputed activations they read stayed alive until the end of the backward pass.
    let gx = xGrads.reduce((a, b) => add(a, b));
    if (outside.length > 0) {
      const z = mul(outside.map((t) => reduceSum(t)).reduce((a, b) => add(a, b)), 0);
      gx = add(gx, z.dtype === gx.dtype ? z : cast(z, gx.dtype));
    }
    accumulate(region.input, gx);
  };

  // Reverse sweep over the nodes between the parameters and the loss.
  const lossIndex = g.nodes.indexOf(loss.producer!);
  for (let n = lossIndex; n >= 0; n--) {
    const node = g.nodes[n]!;
    const region = regionAt.get(node.id);
    if (region) {
      backpropRegion(region.region, region.nodes);
      continue;
    }
    if (inRegion.has(node.id)) continue;
    const gOut = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (gOut.every((x) => x === null)) continue;
    const gIn = applyRule(node, gOut, (t) => live.has(t.id));
    if (!gIn) continue;
    node.inputs.forEach((t, i) => {
      const gi = gIn[i];
      if (t && live.has(t.id) && gi) accumulate(t, gi);
    });
  }

  return wrt.map((w) => grads.get(w.id) ?? expandTo(g.scalar(0, w.dtype), w.shape));
}
