// VJPs of the shape ops (shape.ts). Registered in one table, engine/graph/vjp-rules.ts.
import type { VjpRule } from '../vjp-types.js';
import { unbroadcast } from './reduce.js';
import { reshape, transpose } from './shape.js';

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const vjpReshape: VjpRule = ({ node }, [g]) => [reshape(g!, node.inputs[0]!.shape), null];
export const vjpTranspose: VjpRule = ({ node }, [g]) => [transpose(g!, inversePerm(node.attrInts('perm')))];
export const vjpExpand: VjpRule = ({ node }, [g]) => [unbroadcast(g!, node.inputs[0]!.shape), null];
export const vjpIdentity: VjpRule = (_ctx, [g]) => [g];
// Unsqueeze/Squeeze only relabel axes: the gradient is the incoming one in the input's shape.
export const vjpUnsqueeze: VjpRule = ({ node }, [g]) => [reshape(g!, node.inputs[0]!.shape), null];
export const vjpSqueeze: VjpRule = ({ node }, [g]) => [reshape(g!, node.inputs[0]!.shape), null];
