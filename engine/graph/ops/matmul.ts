// Matrix products. MatMul follows numpy (batch axes broadcast). The VJP of a 2-D weight uses the
// ORT trick: fold the batch into rows and emit one Gemm(transA=1), instead of a batched product
// followed by a reduction.
import type { Tensor } from '../graph.js';
import { float, int } from '../graph.js';
import { ShapeError } from '../errors.js';
import type { VjpRule } from '../vjp-types.js';
import { broadcastShapes } from './broadcast.js';
import { reshape, transposeLast2 } from './shape.js';
import { unbroadcast } from './reduce.js';
import { add } from './elementwise.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new ShapeError('MatMul', [a.shape, b.shape], 'both operands need rank >= 2 (reshape vectors first)');
  if (a.dtype !== b.dtype) throw new ShapeError('MatMul', [a.shape, b.shape], `dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const k1 = a.shape[a.rank - 1]!;
  const k2 = b.shape[b.rank - 2]!;
  if (k1 !== k2) throw new ShapeError('MatMul', [a.shape, b.shape], `inner dimensions differ (${k1} vs ${k2})`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batch) throw new ShapeError('MatMul', [a.shape, b.shape], 'batch dimensions do not broadcast');
  const shape = [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!];
  return a.graph.node('MatMul', [a, b], {}, [{ dtype: a.dtype, shape }])[0]!;
}

/** Gemm: alpha * op(A) @ op(B) + beta * C, 2-D only. */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new ShapeError('Gemm', [a.shape, b.shape], 'operands must be 2-D');
  const [m, ka] = o.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = o.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb) throw new ShapeError('Gemm', [a.shape, b.shape], `inner dimensions differ (${ka} vs ${kb})`);
  if (c && !broadcastShapes(c.shape, [m, n])?.every((d, i) => d === [m, n][i])) throw new ShapeError('Gemm', [a.shape, b.shape, c.shape], `C does not broadcast to [${m},${n}]`);
  const attrs = { transA: int(o.transA ? 1 : 0), transB: int(o.transB ? 1 : 0), alpha: float(o.alpha ?? 1), beta: float(o.beta ?? 1) };
  return a.graph.node('Gemm', c ? [a, b, c] : [a, b], attrs, [{ dtype: a.dtype, shape: [m, n] }])[0]!;
}

/** Linear layer on the last axis with a PyTorch-layout weight [out, in]. */
export function linear(x: Tensor, weightOutIn: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, transposeLast2(weightOutIn));
  return bias ? add(y, bias) : y;
}

export const vjpMatMul: VjpRule = ({ node, needs }, [g]) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  let da: Tensor | null = null;
  let db: Tensor | null = null;
  if (needs(0)) da = unbroadcast(matmul(g!, transposeLast2(b)), a.shape);
  if (needs(1)) {
    if (b.rank === 2) {
      const k = a.shape[a.rank - 1]!;
      const n = b.shape[1]!;
      db = gemm(reshape(a, [-1, k]), reshape(g!, [-1, n]), null, { transA: true });
    } else {
      db = unbroadcast(matmul(transposeLast2(a), g!), b.shape);
    }
  }
  return [da, db];
};

export const vjpGemm: VjpRule = ({ node, needs }, [g]) => {
  const [a, b, c] = node.inputs as [Tensor, Tensor, Tensor | null];
  const tA = node.attrInt('transA', 0) === 1;
  const tB = node.attrInt('transB', 0) === 1;
  const alpha = node.attrFloat('alpha', 1);
  const beta = node.attrFloat('beta', 1);
  // Y = alpha * A' B' + beta * C with A' = tA ? Aᵀ : A, B' = tB ? Bᵀ : B.
  const da = !needs(0) ? null : tA ? gemm(b, g!, null, { transA: tB, transB: true, alpha }) : gemm(g!, b, null, { transB: !tB, alpha });
  const db = !needs(1) ? null : tB ? gemm(g!, a, null, { transA: true, transB: tA, alpha }) : gemm(a, g!, null, { transA: !tA, alpha });
  let dc: Tensor | null = null;
  if (c && needs(2)) {
    const scaled = beta === 1 ? g! : g!.graph.node('Mul', [g!, g!.graph.scalar(beta, g!.dtype)], {}, [{ dtype: g!.dtype, shape: g!.shape }])[0]!;
    dc = unbroadcast(scaled, c.shape);
  }
  return [da, db, dc];
};
