// Nearest-neighbour upsampling by integer factors over the trailing (spatial) axes, e.g. [N,C,H,W]
// by (2,2) or [N,C,T,H,W] by (1,2,2). Wan's VAE uses "nearest-exact" x2, which for integer factors
// picks the same source pixel as plain nearest (src = floor(dst / s)).
// Two forms with identical values:
// - upsampleNearest: Reshape -> Expand -> Reshape. Exact, differentiable through the existing
//   Reshape/Expand VJPs, and every kernel exists in float64 on CPU. Use it in training graphs.
// - upsampleNearestResize: one ONNX Resize node (nearest, floor, asymmetric), which GPU providers run
//   as a single kernel. For inference graphs; it also has a VJP and a float64 lowering (CPU has no
//   float64 Resize kernel) to the Reshape/Expand form.
import type { Node, Shape, Tensor } from '../graph.js';
import { str } from '../graph.js';
import { ShapeError, GraphBuildError } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import { expandTo, reshape } from './shape.js';
import { reduceSum } from './reduce.js';

interface Plan {
  /** x.shape with a size-1 slot after each upscaled axis. */
  slotted: number[];
  /** The same with the slots at their factor. */
  expanded: number[];
  /** Indices (in `slotted`) of the inserted slots. */
  slots: number[];
  out: number[];
}

function plan(op: string, shape: Shape, scales: readonly number[]): Plan {
  if (scales.length > shape.length || scales.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ShapeError(op, [shape], `scales [${scales.join(',')}] must be positive integers for at most ${shape.length} trailing axes`);
  }
  const lead = shape.length - scales.length;
  const p: Plan = { slotted: [], expanded: [], slots: [], out: [] };
  shape.forEach((d, i) => {
    const s = i < lead ? 1 : scales[i - lead]!;
    p.slotted.push(d);
    p.expanded.push(d);
    p.out.push(d * s);
    if (s > 1) {
      p.slots.push(p.slotted.length);
      p.slotted.push(1);
      p.expanded.push(s);
    }
  });
  return p;
}

/** Repeats each element s_i times along each of the trailing axes (training form). */
export function upsampleNearest(x: Tensor, scales: readonly number[]): Tensor {
  const p = plan('upsampleNearest', x.shape, scales);
  if (p.slots.length === 0) return x;
  return reshape(expandTo(reshape(x, p.slotted), p.expanded), p.out);
}

/** The same values as upsampleNearest, as one ONNX Resize node (inference form). */
export function upsampleNearestResize(x: Tensor, scales: readonly number[]): Tensor {
  const p = plan('Resize', x.shape, scales);
  if (p.slots.length === 0) return x;
  const g = x.graph;
  // Resize wants one factor per axis (float32, whatever x's dtype): 1 for the leading axes.
  const full = [...new Array<number>(x.rank - scales.length).fill(1), ...scales];
  return g.node(
    'Resize',
    [x, null, g.constant('float32', [full.length], full)],
    { mode: str('nearest'), nearest_mode: str('floor'), coordinate_transformation_mode: str('asymmetric') },
    [{ dtype: x.dtype, shape: p.out }],
    // CPU has Resize kernels for float32/float16 and some integer types but not float64.
    { lowering: { when: (n) => n.inputs[0]!.dtype === 'float64', build: ([input], n) => [upsampleNearest(input!, resizeFactors(n))] } },
  )[0]!;
}

/** Integer factors of a Resize node we can differentiate (the trailing ones, leading 1s dropped). */
function resizeFactors(node: Node): number[] {
  const x = node.inputs[0]!;
  const ok =
    node.attrString('mode', 'nearest') === 'nearest' &&
    node.attrString('nearest_mode', 'round_prefer_floor') === 'floor' &&
    node.attrString('coordinate_transformation_mode', 'half_pixel') === 'asymmetric' &&
    !node.inputs[3];
  const scalesT = node.inputs[2];
  const data = scalesT ? x.graph.inlineData(scalesT) : null;
  const scales = data ? Array.from(data as Float32Array) : [];
  if (!ok || scales.length !== x.rank || scales.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new GraphBuildError('Resize', `only nearest/floor/asymmetric Resize by constant integer scales is differentiable or lowerable (node ${node.name}); use upsampleNearest`);
  }
  return scales;
}

// The gradient of nearest upsampling sums each s_1 x s_2 x ... block of g onto its source element.
export const vjpResize: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const p = plan('Resize', x.shape, resizeFactors(node));
  return [reduceSum(reshape(g!, p.expanded), p.slots, false), null, null, null];
};
