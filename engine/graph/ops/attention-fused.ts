// Fused attention for inference graphs: one com.microsoft.MultiHeadAttention node (or one opset-23
// Attention node), so that the CUDA/WebGPU execution providers can run their flash or
// memory-efficient kernels. There is no VJP on purpose: the training kernels are absent from
// onnxruntime-node, so training graphs use attentionNaive or attentionBlockwise, and grad() refuses
// these nodes with an error that says so. Where the fused kernel is missing (float64 on CPU) the node
// lowers to the primitive form, so float64 reference runs still work.
import type { Node, Tensor } from '../graph.js';
import { float, int } from '../graph.js';
import { ShapeError } from '../errors.js';
import type { AttentionOptions, AttentionShapeSpec } from './attention-naive.js';
import { attentionNaive, checkAttention } from './attention-naive.js';
import { reshape, transpose } from './shape.js';

export interface FusedAttentionOptions extends AttentionOptions {
  /** 'mha': com.microsoft.MultiHeadAttention (default); 'onnx': the ai.onnx opset-23 Attention op. */
  kernel?: 'mha' | 'onnx';
}

const lowerInFloat64 = (node: Node): boolean => node.inputs[0]!.dtype === 'float64';

/** [B, T, H·D] → [B, H, T, D] */
function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, hd] = x.shape as [number, number, number];
  return transpose(reshape(x, [b, t, heads, hd / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, D] → [B, T, H·D] */
function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return reshape(transpose(x, [0, 2, 1, 3]), [b, t, h * d]);
}

/**
 * com.microsoft.MultiHeadAttention on the packed-head layout that projections produce:
 * q [B, Tq, H·Dh], k [B, Tk, H·Dh], v [B, Tk, H·Dv] → [B, Tq, H·Dv]. Non-causal, no mask.
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, numHeads: number, opts: AttentionOptions = {}): Tensor {
  const op = 'MultiHeadAttention';
  const shapes = [q.shape, k.shape, v.shape];
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) throw new ShapeError(op, shapes, 'q, k and v must be [batch, tokens, heads·head_dim]');
  if (!Number.isInteger(numHeads) || numHeads < 1) throw new ShapeError(op, shapes, `numHeads must be a positive integer, got ${numHeads}`);
  for (const t of [q, k, v]) {
    if (t.shape[2]! % numHeads !== 0) throw new ShapeError(op, shapes, `hidden size ${t.shape[2]} is not divisible by ${numHeads} heads`);
  }
  // Reuse the 4-D checks (batch, lengths, head dims, dtype) on the split-head view of the shapes.
  const d = checkAttention(op, splitHeadsSpec(q, numHeads), splitHeadsSpec(k, numHeads), splitHeadsSpec(v, numHeads), opts.scale);
  return q.graph.node(op, [q, k, v], { num_heads: int(numHeads), scale: float(d.scale) }, [{ dtype: q.dtype, shape: [d.batch, d.tq, numHeads * d.dv] }], {
    domain: 'com.microsoft',
    lowering: {
      when: lowerInFloat64,
      build: (inputs, node) => {
        const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
        const h = node.attrInt('num_heads');
        return [mergeHeads(attentionNaive(splitHeads(qi, h), splitHeads(ki, h), splitHeads(vi, h), { scale: node.attrFloat('scale') }))];
      },
    },
  })[0]!;
}

/** The [B, H, T, D] view of a packed [B, T, H·D] tensor, for the shared shape checks. */
function splitHeadsSpec(x: Tensor, heads: number): AttentionShapeSpec {
  const [b, t, hd] = x.shape as [number, number, number];
  return { shape: [b, heads, t, hd / heads], dtype: x.dtype };
}

/**
 * Fused attention on [B, H, T, D] tensors, the same contract as attentionNaive. With kernel 'mha' the
 * heads are packed around one MultiHeadAttention node; with 'onnx' the 4-D tensors go straight into
 * opset-23 Attention.
 */
export function attentionFused(q: Tensor, k: Tensor, v: Tensor, opts: FusedAttentionOptions = {}): Tensor {
  const d = checkAttention('Attention', q, k, v, opts.scale);
  if ((opts.kernel ?? 'mha') === 'mha') {
    return splitHeads(multiHeadAttention(mergeHeads(q), mergeHeads(k), mergeHeads(v), d.heads, { scale: d.scale }), d.heads);
  }
  return q.graph.node('Attention', [q, k, v], { scale: float(d.scale), is_causal: int(0) }, [{ dtype: q.dtype, shape: [d.batch, d.heads, d.tq, d.dv] }], {
    lowering: {
      when: lowerInFloat64,
      build: (inputs, node) => {
        const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
        return [attentionNaive(qi, ki, vi, { scale: node.attrFloat('scale') })];
      },
    },
  })[0]!;
}
