// Every vector-Jacobian product of the graph language, in one table: ONNX op (and domain) → rule. The
// rules live beside their ops (ops/*.ts, or ops/*-vjp.ts where the rule needs ops that would otherwise
// import each other in a circle); this file is the only place they are registered, so the table below
// is the complete list of differentiable ops. vjp-rules.test.ts gradient-checks each entry in float64
// and fails when an entry has no check.
import type { Node } from './graph.js';
import { GraphBuildError } from './errors.js';
import type { VjpRule } from './vjp-types.js';
import { vjpAbs, vjpAdd, vjpCast, vjpCos, vjpDiv, vjpErf, vjpExp, vjpLog, vjpMax, vjpMin, vjpMul, vjpNeg, vjpPow, vjpReciprocal, vjpRelu, vjpSigmoid, vjpSin, vjpSoftplus, vjpSqrt, vjpSub, vjpTanh } from './ops/elementwise-vjp.js';
import { vjpReduceLogSumExp, vjpReduceMax, vjpReduceMean, vjpReduceSum } from './ops/reduce-vjp.js';
import { vjpExpand, vjpIdentity, vjpReshape, vjpSqueeze, vjpTranspose, vjpUnsqueeze } from './ops/shape-vjp.js';
import { vjpGemm, vjpMatMul } from './ops/matmul.js';
import { vjpGelu } from './ops/activations.js';
import { vjpLayerNormalization, vjpRMSNormalization, vjpSoftmax } from './ops/normalization.js';
import { vjpConcat, vjpGather, vjpPad, vjpSlice, vjpSplit, vjpWhere } from './ops/indexing.js';
import { vjpConv, vjpConvTranspose } from './ops/conv.js';
import { vjpResize } from './ops/resize.js';
import { vjpBlockwiseAttention } from './ops/attention-blockwise.js';

export interface VjpEntry {
  /** The ONNX op type (or our own, for composite nodes). */
  op: string;
  /** The node's domain; omitted for the default ONNX domain. */
  domain?: string;
  rule: VjpRule;
}

export const VJP_RULES: readonly VjpEntry[] = [
  // elementwise.ts
  { op: 'Add', rule: vjpAdd },
  { op: 'Sub', rule: vjpSub },
  { op: 'Mul', rule: vjpMul },
  { op: 'Div', rule: vjpDiv },
  { op: 'Pow', rule: vjpPow },
  { op: 'Max', rule: vjpMax },
  { op: 'Min', rule: vjpMin },
  { op: 'Neg', rule: vjpNeg },
  { op: 'Exp', rule: vjpExp },
  { op: 'Log', rule: vjpLog },
  { op: 'Sqrt', rule: vjpSqrt },
  { op: 'Tanh', rule: vjpTanh },
  { op: 'Sigmoid', rule: vjpSigmoid },
  { op: 'Reciprocal', rule: vjpReciprocal },
  { op: 'Abs', rule: vjpAbs },
  { op: 'Cast', rule: vjpCast },
  { op: 'Erf', rule: vjpErf },
  { op: 'Cos', rule: vjpCos },
  { op: 'Sin', rule: vjpSin },
  { op: 'Softplus', rule: vjpSoftplus },
  { op: 'Relu', rule: vjpRelu },
  // reduce.ts
  { op: 'ReduceSum', rule: vjpReduceSum },
  { op: 'ReduceMean', rule: vjpReduceMean },
  { op: 'ReduceMax', rule: vjpReduceMax },
  { op: 'ReduceLogSumExp', rule: vjpReduceLogSumExp },
  // shape.ts
  { op: 'Reshape', rule: vjpReshape },
  { op: 'Transpose', rule: vjpTranspose },
  { op: 'Expand', rule: vjpExpand },
  { op: 'Identity', rule: vjpIdentity },
  { op: 'Unsqueeze', rule: vjpUnsqueeze },
  { op: 'Squeeze', rule: vjpSqueeze },
  // matmul.ts
  { op: 'MatMul', rule: vjpMatMul },
  { op: 'Gemm', rule: vjpGemm },
  // activations.ts
  { op: 'Gelu', rule: vjpGelu },
  // normalization.ts
  { op: 'Softmax', rule: vjpSoftmax },
  { op: 'LayerNormalization', rule: vjpLayerNormalization },
  { op: 'RMSNormalization', rule: vjpRMSNormalization },
  // indexing.ts
  { op: 'Concat', rule: vjpConcat },
  { op: 'Slice', rule: vjpSlice },
  { op: 'Split', rule: vjpSplit },
  { op: 'Gather', rule: vjpGather },
  { op: 'Pad', rule: vjpPad },
  { op: 'Where', rule: vjpWhere },
  // conv.ts
  { op: 'Conv', rule: vjpConv },
  { op: 'ConvTranspose', rule: vjpConvTranspose },
  // resize.ts
  { op: 'Resize', rule: vjpResize },
  // attention-blockwise.ts
  { op: 'BlockwiseAttention', domain: 'refree', rule: vjpBlockwiseAttention },
];

/** "domain::op", the key rules are looked up by. */
export const vjpKey = (domain: string, op: string): string => `${domain || 'ai.onnx'}::${op}`;

const byKey = new Map<string, VjpRule>();
for (const e of VJP_RULES) {
  const k = vjpKey(e.domain ?? '', e.op);
  if (byKey.has(k)) throw new GraphBuildError('vjp-rules', `the table lists ${k} twice`);
  byKey.set(k, e.rule);
}

/** The rule for a node's op, or undefined when the op is not differentiable. */
export function vjpFor(node: Node): VjpRule | undefined {
  return byKey.get(vjpKey(node.domain, node.opType));
}

/** Every op with a rule, as "domain::op", sorted. */
export function registeredVjps(): string[] {
  return [...byKey.keys()].sort();
}
