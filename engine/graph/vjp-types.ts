// What a vector-Jacobian product rule is. Rules build their gradients with the same graph language, so
// a gradient graph is checked like any other graph. The table of rules is vjp-rules.ts.
import type { Graph, Node, Tensor } from './graph.js';

export interface VjpContext {
  readonly graph: Graph;
  readonly node: Node;
  /** True when input i needs a gradient; rules skip the work for the others. */
  needs(i: number): boolean;
}

/** Returns one entry per node input: its gradient, or null when it has none or none is needed. */
export type VjpRule = (ctx: VjpContext, gradOutputs: readonly (Tensor | null)[]) => readonly (Tensor | null | undefined)[];

/** Ops with no gradient (integer ops, shape queries): autodiff treats their outputs as constants. */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'ArgMax', 'ArgMin', 'Range', 'ConstantOfShape', 'Floor', 'Ceil', 'Round', 'Sign']);
