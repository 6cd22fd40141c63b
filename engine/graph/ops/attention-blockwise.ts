// Blockwise (flash-style) attention for long training sequences, in standard ONNX ops only.
//
// The graph records ONE composite node, refree.BlockwiseAttention(q, k, v) -> (O, lse). It is never
// emitted as such: its lowering (always used) writes the forward block by block over the query rows,
// keeping only O and the row logsumexp. Its registered VJP is the FlashAttention-2 backward: for each
// query block it recomputes P_i = exp(Q_i Kᵀ s − lse_i) instead of storing it, so memory is
// O(blockSize · Tk) per head instead of O(Tq · Tk).
//
// Two runtime hazards (reference/onnxruntime-node-facts.md §3d) shape the emitted graph:
// - ORT's topological order is free to defer the per-block accumulations to the end of the graph,
//   which keeps every block's P_i alive (measured at 8k tokens: 3.2 GB instead of 0.27 GB). So each
//   block's first inputs are guarded with x + 0·ΣReduceSum(previous block's results): a fake data
//   dependency that forces block i to wait until block i−1 is fully accumulated (and so freed).
//   Adding an exact zero changes no value.
// - ORT's common-subexpression elimination can merge a recomputed Q_i Kᵀ back into the forward one
//   when their inputs are identical. The guards make every recomputed block's input differ from the
//   forward's (block 0 waits on dO), so no merge is possible; training sessions should still be opened
//   with `disableCse: true`, as DESIGN asks (measured: same peak with CSE on or off).
import type { Node, Tensor } from '../graph.js';
import { float, int } from '../graph.js';
import { GraphBuildError } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import type { AttentionOptions } from './attention-naive.js';
import { checkAttention } from './attention-naive.js';
import { add, div, exp, log, mul, sub } from './elementwise.js';
import { matmul } from './matmul.js';
import { reduceMax, reduceSum } from './reduce.js';
import { concat, split } from './indexing.js';
import { expandTo, reshape, transposeLast2 } from './shape.js';

export const BLOCKWISE_OP = 'BlockwiseAttention';
/** Composite nodes of this project; never emitted (their lowering always applies). */
const REFREE_DOMAIN = 'refree';

export interface BlockwiseAttentionOptions extends AttentionOptions {
  /** Query rows per block; memory per block is blockSize × Tk per head. Default 256. */
  blockSize?: number;
}

// --- helpers -------------------------------------------------------------------------------------

/**
 * 0·Σ ReduceSum(dep): an exact scalar zero that exists only after every dep does. Adding it to a
 * block's first inputs is how the graph tells ORT's scheduler "finish the previous block first".
 */
function guardAfter(deps: readonly (Tensor | null)[]): Tensor | null {
  const live = deps.filter((d): d is Tensor => d !== null);
  if (live.length === 0) return null;
  return mul(live.map((d) => reduceSum(d)).reduce((a, b) => add(a, b)), 0);
}

const guarded = (x: Tensor, guard: Tensor | null): Tensor => (guard ? add(x, guard) : x);

function blockSizes(total: number, block: number): number[] {
  const sizes: number[] = [];
  for (let start = 0; start < total; start += block) sizes.push(Math.min(block, total - start));
  return sizes;
}

// --- forward ---------------------------------------------------------------------------------------

/** The emitted forward: per query block, O_i = softmax(s·Q_i Kᵀ) V and lse_i = logsumexp(s·Q_i Kᵀ). */
function lowerForward(inputs: readonly (Tensor | null)[], node: Node): Tensor[] {
  const [q, k, v] = inputs as [Tensor, Tensor, Tensor];
  const scale = node.attrFloat('scale');
  const sizes = blockSizes(q.shape[2]!, node.attrInt('block_size'));
  const kT = transposeLast2(k);
  const qBlocks = split(mul(q, scale), sizes, 2);
  const outs: Tensor[] = [];
  const lses: Tensor[] = [];
  let prev: Tensor | null = null;
  for (const qb of qBlocks) {
    const logits = matmul(guarded(qb, guardAfter([prev])), kT); // [B,H,bs,Tk]
    const m = reduceMax(logits, [3], true);
    const e = exp(sub(logits, m));
    const l = reduceSum(e, [3], true);
    // Normalising after the product divides bs·Dv values instead of bs·Tk.
    const o = div(matmul(e, v), l);
    outs.push(o);
    lses.push(add(m, log(l)));
    prev = o;
  }
  const lse = concat(lses, 2);
  return [concat(outs, 2), reshape(lse, lse.shape.slice(0, 3))];
}

function record(q: Tensor, k: Tensor, v: Tensor, opts: BlockwiseAttentionOptions): { out: Tensor; lse: Tensor } {
  const d = checkAttention(BLOCKWISE_OP, q, k, v, opts.scale);
  const blockSize = opts.blockSize ?? 256;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new GraphBuildError(BLOCKWISE_OP, `blockSize must be a positive integer, got ${blockSize}`);
  const [out, lse] = q.graph.node(
    BLOCKWISE_OP,
    [q, k, v],
    { scale: float(d.scale), block_size: int(blockSize) },
    [
      { dtype: q.dtype, shape: [d.batch, d.heads, d.tq, d.dv] },
      { dtype: q.dtype, shape: [d.batch, d.heads, d.tq] },
    ],
    { domain: REFREE_DOMAIN, lowering: { when: () => true, build: lowerForward } },
  );
  return { out: out!, lse: lse! };
}

/**
 * softmax(scale · q kᵀ) v with blockwise recompute in the backward. Open training graphs that use it
 * with `CompiledGraph.fromGraph(g, { disableCse: true })`; ORT's memory pattern roughly doubles the
 * peak of such graphs (bench/attention.ts), so turn it off too where the session allows.
 */
export function attentionBlockwise(q: Tensor, k: Tensor, v: Tensor, opts: BlockwiseAttentionOptions = {}): Tensor {
  return record(q, k, v, opts).out;
}

/** The same, also returning the row logsumexp [B, H, Tq] of the scaled logits (differentiable). */
export function attentionBlockwiseWithLse(q: Tensor, k: Tensor, v: Tensor, opts: BlockwiseAttentionOptions = {}): { out: Tensor; lse: Tensor } {
  return record(q, k, v, opts);
}

// --- backward --------------------------------------------------------------------------------------

export const vjpBlockwiseAttention: VjpRule = ({ node, needs }, [gOut, gLse]) => {
    const [q, k, v] = node.inputs as [Tensor, Tensor, Tensor];
    const [o, lse] = node.outputs as [Tensor, Tensor];
    const scale = node.attrFloat('scale');
    const sizes = blockSizes(q.shape[2]!, node.attrInt('block_size'));
    const [needQ, needK, needV] = [needs(0), needs(1), needs(2)];
    const needDs = needQ || needK;
    const dO = gOut ?? expandTo(q.graph.scalar(0, q.dtype), o.shape);
    const keep = [...lse.shape, 1];

    const kT = transposeLast2(k);
    const vT = transposeLast2(v);
    const qBlocks = split(mul(q, scale), sizes, 2);
    const lseBlocks = split(reshape(lse, keep), sizes, 2);
    const dOBlocks = split(dO, sizes, 2);
    // D_i = rowsum(dO_i ∘ O_i): the softmax VJP's subtracted term, computed once for all rows.
    const dBlocks = needDs ? split(reduceSum(mul(dO, o), [3], true), sizes, 2) : [];
    const dLseBlocks = needDs && gLse ? split(reshape(gLse, keep), sizes, 2) : [];

    // dK and dV are accumulated transposed ([Dh, Tk]) so no bs×Tk matrix is ever transposed.
    let dKT: Tensor | null = null;
    let dVT: Tensor | null = null;
    const dQ: Tensor[] = [];
    for (let i = 0; i < sizes.length; i++) {
      // Block 0 waits on dO: besides ordering, that makes its recomputed logits differ from the
      // forward's, so CSE cannot merge the two even where it is left on.
      const guard = guardAfter(i === 0 ? [dO] : [dQ[i - 1] ?? null, dKT, dVT]);
      const qb = qBlocks[i]!;
      const dOb = guarded(dOBlocks[i]!, guard);
      const p = exp(sub(matmul(guarded(qb, guard), kT), lseBlocks[i]!)); // recomputed P_i [B,H,bs,Tk]
      if (needV) {
        const c = matmul(transposeLast2(dOb), p); // (P_iᵀ dO_i)ᵀ
        dVT = dVT ? add(dVT, c) : c;
      }
      if (!needDs) continue;
      let inner = sub(matmul(dOb, vT), dBlocks[i]!); // dP_i − D_i
      if (gLse) inner = add(inner, dLseBlocks[i]!); // d lse / dS = P
      const ds = mul(p, inner); // dS_i with respect to the scaled logits
      if (needQ) dQ.push(mul(matmul(ds, k), scale));
      if (needK) {
        const c = matmul(transposeLast2(qb), ds); // (dS_iᵀ · sQ_i)ᵀ
        dKT = dKT ? add(dKT, c) : c;
      }
    }
    return [needQ ? concat(dQ, 2) : null, needK && dKT ? transposeLast2(dKT) : null, needV && dVT ? transposeLast2(dVT) : null];
  };
