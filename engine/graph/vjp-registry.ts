// The table of vector-Jacobian products, keyed by ONNX op (domain + type). Each op family registers
// the VJPs of the ops it defines, next to their shape inference (ops/*.ts). Rules build their
// gradients with the same graph language, so a gradient graph is checked like any other graph.
import type { Graph, Node, Tensor } from './graph.js';
import { GraphBuildError } from './errors.js';

export interface VjpContext {
  readonly graph: Graph;
  readonly node: Node;
  /** True when input i needs a gradient; rules skip the work for the others. */
  needs(i: number): boolean;
}

/** Returns one entry per node input: its gradient, or null when it has none or none is needed. */
export type VjpRule = (ctx: VjpContext, gradOutputs: readonly (Tensor | null)[]) => readonly (Tensor | null | undefined)[];

const rules = new Map<string, VjpRule>();
const key = (domain: string, opType: string): string => `${domain || 'ai.onnx'}::${opType}`;

export function registerVjp(opType: string, rule: VjpRule, domain = ''): void {
  const k = key(domain, opType);
  if (rules.has(k)) throw new GraphBuildError('registerVjp', `a VJP for ${k} is already registered`);
  rules.set(k, rule);
}

export function vjpFor(node: Node): VjpRule | undefined {
  return rules.get(key(node.domain, node.opType));
}

export function registeredVjps(): string[] {
  return [...rules.keys()].sort();
}

/** Ops with no gradient (integer ops, shape queries): autodiff treats their outputs as constants. */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'ArgMax', 'ArgMin', 'Range', 'ConstantOfShape', 'Floor', 'Ceil', 'Round', 'Sign']);
