// VJPs of the elementwise ops (elementwise.ts). Registered in one table, engine/graph/vjp-rules.ts.
import type { Tensor } from '../graph.js';
import type { VjpRule } from '../vjp-types.js';
import { add, cast, compare, cos, div, exp, log, mul, neg, pow, sigmoid, sin, sub } from './elementwise.js';
import { unbroadcast } from './reduce.js';

export const vjpAdd: VjpRule = ({ node, needs }, [g]) => [
  needs(0) ? unbroadcast(g!, node.inputs[0]!.shape) : null,
  needs(1) ? unbroadcast(g!, node.inputs[1]!.shape) : null,
];
export const vjpSub: VjpRule = ({ node, needs }, [g]) => [
  needs(0) ? unbroadcast(g!, node.inputs[0]!.shape) : null,
  needs(1) ? unbroadcast(neg(g!), node.inputs[1]!.shape) : null,
];
export const vjpMul: VjpRule = ({ node, needs }, [g]) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  return [needs(0) ? unbroadcast(mul(g!, b), a.shape) : null, needs(1) ? unbroadcast(mul(g!, a), b.shape) : null];
};
export const vjpDiv: VjpRule = ({ node, needs }, [g]) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  const y = node.outputs[0]!;
  return [needs(0) ? unbroadcast(div(g!, b), a.shape) : null, needs(1) ? unbroadcast(neg(div(mul(g!, y), b)), b.shape) : null];
};
export const vjpPow: VjpRule = ({ node, needs }, [g]) => {
  const [a, p] = node.inputs as [Tensor, Tensor];
  const y = node.outputs[0]!;
  // d/da a^p = p * a^(p-1); d/dp a^p = a^p * ln(a) (only meaningful for a > 0).
  return [needs(0) ? unbroadcast(mul(g!, mul(p, pow(a, sub(p, 1)))), a.shape) : null, needs(1) ? unbroadcast(mul(g!, mul(y, log(a))), p.shape) : null];
};
// Ties split the gradient equally between the operands, as PyTorch's maximum/minimum do
// (grad / 2 each where a == b); elsewhere all of it goes to the operand that was picked.
function minMaxVjp(op: 'Max' | 'Min'): VjpRule {
  return ({ node, needs }, [g]) => {
    const [a, b] = node.inputs as [Tensor, Tensor];
    const wins = cast(compare(op === 'Max' ? 'Greater' : 'Less', a, b), g!.dtype);
    const ties = cast(compare('Equal', a, b), g!.dtype);
    const toA = add(wins, mul(ties, 0.5));
    const toB = sub(1, toA);
    return [needs(0) ? unbroadcast(mul(g!, toA), a.shape) : null, needs(1) ? unbroadcast(mul(g!, toB), b.shape) : null];
  };
}
export const vjpMax: VjpRule = minMaxVjp('Max');
export const vjpMin: VjpRule = minMaxVjp('Min');
export const vjpNeg: VjpRule = (_c, [g]) => [neg(g!)];
export const vjpExp: VjpRule = ({ node }, [g]) => [mul(g!, node.outputs[0]!)];
export const vjpLog: VjpRule = ({ node }, [g]) => [div(g!, node.inputs[0]!)];
export const vjpSqrt: VjpRule = ({ node }, [g]) => [div(mul(g!, 0.5), node.outputs[0]!)];
export const vjpTanh: VjpRule = ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [mul(g!, sub(1, mul(y, y)))];
};
export const vjpSigmoid: VjpRule = ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [mul(g!, mul(y, sub(1, y)))];
};
export const vjpReciprocal: VjpRule = ({ node }, [g]) => {
  const y = node.outputs[0]!;
  return [neg(mul(g!, mul(y, y)))];
};
export const vjpAbs: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  const sign = sub(cast(compare('Greater', x, 0), x.dtype), cast(compare('Less', x, 0), x.dtype));
  return [mul(g!, sign)];
};
export const vjpCast: VjpRule = ({ node }, [g]) => [cast(g!, node.inputs[0]!.dtype)];
export const vjpErf: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  return [mul(g!, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
};
export const vjpCos: VjpRule = ({ node }, [g]) => [neg(mul(g!, sin(node.inputs[0]!)))];
export const vjpSin: VjpRule = ({ node }, [g]) => [mul(g!, cos(node.inputs[0]!))];
// d softplus/dx = sigmoid(x).
export const vjpSoftplus: VjpRule = ({ node }, [g]) => [mul(g!, sigmoid(node.inputs[0]!))];
// Relu'(0) is taken as 0 (as PyTorch does).
export const vjpRelu: VjpRule = ({ node }, [g]) => [mul(g!, cast(compare('Greater', node.inputs[0]!, 0), g!.dtype))];
