// Activation functions. silu and gelu are built from primitives, so training graphs differentiate them
// with the primitives' VJPs; geluFused records one ONNX Gelu node (opset 20) for inference graphs, with
// its own VJP and a primitive lowering for float64.
import type { Node, Tensor } from '../graph.js';
import { str } from '../graph.js';
import { GraphBuildError } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import { add, erf, exp, mul, sigmoid, sub, tanh } from './elementwise.js';

/** 'tanh': the tanh approximation (PyTorch approximate='tanh'); 'erf': the exact form ('none' in ONNX). */
export type GeluApprox = 'tanh' | 'erf';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/** x·sigmoid(x) (a.k.a. swish). */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

function checkApprox(approx: string): GeluApprox {
  if (approx === 'tanh' || approx === 'erf') return approx;
  if (approx === 'none') return 'erf';
  throw new GraphBuildError('Gelu', `approximate must be 'tanh' or 'erf', got '${approx}'`);
}

/** GELU from primitives: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) or 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: Tensor, approx: GeluApprox = 'tanh'): Tensor {
  const inner = checkApprox(approx) === 'tanh' ? tanh(mul(add(x, mul(mul(mul(x, x), x), GELU_CUBIC)), SQRT_2_OVER_PI)) : erf(mul(x, Math.SQRT1_2));
  return mul(mul(x, 0.5), add(inner, 1));
}

/**
 * One ONNX Gelu node (opset 20; approximate='tanh' or 'none'), the fused kernel for inference.
 * Float64 graphs use the primitive form (CPU has no float64 Erf, and its float64 tanh-Gelu is only
 * accurate to ~6e-9, too coarse for finite differences).
 */
export function geluFused(x: Tensor, approx: GeluApprox | 'none' = 'tanh'): Tensor {
  const a = checkApprox(approx);
  const lowering = { when: (n: Node) => n.inputs[0]!.dtype === 'float64', build: ([t]: readonly (Tensor | null)[]) => [gelu(t!, a)] };
  return x.graph.node('Gelu', [x], { approximate: str(a === 'tanh' ? 'tanh' : 'none') }, [{ dtype: x.dtype, shape: x.shape }], { lowering })[0]!;
}

export const vjpGelu: VjpRule = ({ node }, [g]) => {
  const x = node.inputs[0]!;
  let d: Tensor;
  if (node.attrString('approximate', 'none') === 'tanh') {
    // d/dx 0.5x(1+t) = 0.5(1+t) + 0.5x(1-t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(√(2/π)(x + 0.044715x³)).
    const x2 = mul(x, x);
    const t = tanh(mul(add(x, mul(mul(x2, x), GELU_CUBIC)), SQRT_2_OVER_PI));
    const du = mul(add(mul(x2, 3 * GELU_CUBIC), 1), SQRT_2_OVER_PI);
    d = add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sub(1, mul(t, t))), du));
  } else {
    // d/dx x·Φ(x) = Φ(x) + x·φ(x).
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    d = add(cdf, mul(x, pdf));
  }
  return [mul(g!, d)];
};
