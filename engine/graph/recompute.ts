// Activation recomputation ("gradient checkpointing") for training graphs.
//
// `recompute(x, fn)` builds fn(x) as ordinary forward nodes and records them as a region. When autodiff
// (autodiff.ts) reaches the region on its way back, it does not differentiate those forward nodes:
// it re-emits the ones that depend on x on a guarded copy x' = x + 0·Σ ReduceSum(gradients of the
// region's outputs) and differentiates the copy. The guard is an exact zero that exists only once the
// backward pass has reached the region, so ORT cannot run the recomputation early; the forward
// intermediates then have no consumer in the backward pass and are freed as soon as the next region has
// read them. What stays alive across the whole step is each region's input (and the few tensors the
// region reads from outside, e.g. per-block modulation), instead of every intermediate of every block.
//
// Nodes in the region that do NOT depend on x (parameter slices, weight casts, modulation built from the
// time embedding) are not re-emitted: the copy reads their original outputs, and their gradients flow
// back through the ordinary sweep. Regions may not nest.
import type { Graph, Node, Tensor } from './graph.js';
import { GraphBuildError } from './errors.js';

export interface RecomputeRegion {
  /** The region's input: the tensor every recomputed node depends on. */
  input: Tensor;
  /** Index range [start, end) of the region's nodes in graph.nodes. */
  start: number;
  end: number;
}

const regionsByGraph = new WeakMap<Graph, RecomputeRegion[]>();
const openRegion = new WeakMap<Graph, boolean>();

/** fn(x), recorded as a region whose x-dependent nodes are recomputed in the backward pass. */
export function recompute(x: Tensor, fn: (x: Tensor) => Tensor): Tensor {
  const g = x.graph;
  if (openRegion.get(g)) throw new GraphBuildError('recompute', 'recompute regions cannot nest');
  const start = g.nodes.length;
  openRegion.set(g, true);
  let y: Tensor;
  try {
    y = fn(x);
  } finally {
    openRegion.set(g, false);
  }
  let list = regionsByGraph.get(g);
  if (!list) regionsByGraph.set(g, (list = []));
  list.push({ input: x, start, end: g.nodes.length });
  return y;
}

export function recomputeRegions(g: Graph): readonly RecomputeRegion[] {
  return regionsByGraph.get(g) ?? [];
}

/** A region's nodes that depend on its input, in graph order (these are the ones recomputed). */
export function dependentNodes(g: Graph, r: RecomputeRegion): Node[] {
  const dep = new Set<number>([r.input.id]);
  const out: Node[] = [];
  for (let i = r.start; i < r.end; i++) {
    const n = g.nodes[i]!;
    if (n.inputs.some((t) => t && dep.has(t.id))) {
      out.push(n);
      for (const o of n.outputs) dep.add(o.id);
    }
  }
  return out;
}
