// VJPs of the reductions (reduce.ts). Registered in one table, engine/graph/vjp-rules.ts.
import type { Tensor } from '../graph.js';
import type { VjpRule } from '../vjp-types.js';
import { cast, compare, div, exp, mul, sub } from './elementwise.js';
import { reduceSum } from './reduce.js';
import { expandTo, reshape } from './shape.js';

/** The reduced axes of a reduction node (all when it has no axes input). */
function axesOf(x: Tensor, axesT: Tensor | null): number[] {
  return axesT ? Array.from(x.graph.inlineData(axesT) as BigInt64Array, Number) : x.shape.map((_, i) => i);
}
/** The gradient of a reduction: reshape to keepdims form, then broadcast back over the input. */
function spreadBack(g: Tensor, x: Tensor, axesT: Tensor | null): Tensor {
  const axes = axesOf(x, axesT);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expandTo(reshape(g, keep), x.shape);
}

export const vjpReduceSum: VjpRule = ({ node }, [g]) => [spreadBack(g!, node.inputs[0]!, node.inputs[1] ?? null), null];
export const vjpReduceMean: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  return [mul(spreadBack(g!, x, node.inputs[1] ?? null), y.size / x.size), null];
};
// The gradient goes to the positions equal to the max. Ties share it equally (mask / count), which is
// the subgradient torch.amax uses; with distinct values it is exactly the arg-max indicator.
export const vjpReduceMax: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const axesT = node.inputs[1] ?? null;
  const mask = cast(compare('Equal', x, spreadBack(node.outputs[0]!, x, axesT)), x.dtype);
  const count = reduceSum(mask, axesOf(x, axesT), true);
  return [mul(spreadBack(g!, x, axesT), div(mask, count)), null];
};
// d lse / dx = softmax(x) over the reduced axes = exp(x - lse).
export const vjpReduceLogSumExp: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const axesT = node.inputs[1] ?? null;
  const p = exp(sub(x, spreadBack(node.outputs[0]!, x, axesT)));
  return [mul(spreadBack(g!, x, axesT), p), null];
};
