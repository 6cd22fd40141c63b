// How DiT code reaches its weights: every parameter by its official name (shape from the inventory,
// engine/model/inventory/dit.ts, so there is one source of truth), and every linear layer through ONE
// function, `linear(name, x)` ("linearFor"), so that a LoRA wrapper can intercept any of them by
// official name ('blocks.3.self_attn.q', 'head.head', ...).
import type { Graph, Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { GraphBuildError, ShapeError } from '../../graph/errors.js';
import { cast } from '../../graph/ops/elementwise.js';
import { gemm } from '../../graph/ops/matmul.js';
import { reshape } from '../../graph/ops/shape.js';
import type { DitConfig } from '../config.js';
import { ditParams } from '../inventory/dit.js';
import type { WeightProvider } from '../weight-provider.js';

/**
 * Wraps one linear layer. `base(x)` is the plain layer (x Wᵀ + b with the checkpoint's weights);
 * the hook returns what the model should use instead, e.g. base(x) + (alpha/r)·(x Aᵀ)Bᵀ for LoRA, or
 * just base(x) for layers it leaves alone. It is called for EVERY linear, with these names:
 *   patch_embedding (x: flattened patches [B, L, C·pt·ph·pw]; the Conv3d weight is used flattened),
 *   text_embedding.0/.2, time_embedding.0/.2, time_projection.1,
 *   blocks.{i}.self_attn.{q,k,v,o}, blocks.{i}.cross_attn.{q,k,v,o}, blocks.{i}.ffn.{0,2}, head.head.
 */
export type LinearHook = (name: string, x: Tensor, base: (x: Tensor) => Tensor) => Tensor;

export interface DitWeights {
  readonly graph: Graph;
  /** Activation dtype; weights of another dtype are cast to it. */
  readonly dtype: DType;
  /** A parameter by official name, in the activation dtype. */
  param(name: string): Tensor;
  /** linearFor: the linear layer `name` applied on x's last axis, through the hook when one is set. */
  linear(name: string, x: Tensor): Tensor;
}

/** y = x Wᵀ + b over x's last axis, as one Gemm(transB) on the rows (no Transpose of the weight). */
function plainLinear(x: Tensor, weight: Tensor, bias: Tensor | null, name: string): Tensor {
  const inF = x.shape[x.rank - 1]!;
  const outF = weight.shape[0]!;
  const w2 = weight.rank === 2 ? weight : reshape(weight, [outF, -1]);
  if (w2.shape[1] !== inF) throw new ShapeError('Linear', [x.shape, weight.shape], `${name}: x has ${inF} features, the weight expects ${w2.shape[1]}`);
  const rows = x.rank === 2 ? x : reshape(x, [-1, inF]);
  const y = gemm(rows, w2, bias, { transB: true });
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), outF]);
}

export function ditWeights(g: Graph, cfg: DitConfig, provider: WeightProvider, dtype: DType, hook?: LinearHook): DitWeights {
  const shapes = new Map(ditParams(cfg).map((p) => [p.name, p.shape]));
  const cache = new Map<string, Tensor>();
  const param = (name: string): Tensor => {
    const hit = cache.get(name);
    if (hit) return hit;
    const shape = shapes.get(name);
    if (!shape) throw new GraphBuildError('DiT', `"${name}" is not a parameter of this DiT architecture`);
    const t = provider.get(g, name, shape);
    const out = t.dtype === dtype ? t : cast(t, dtype);
    cache.set(name, out);
    return out;
  };
  const linear = (name: string, x: Tensor): Tensor => {
    if (x.dtype !== dtype) throw new ShapeError('Linear', [x.shape], `${name}: x is ${x.dtype}, the DiT computes in ${dtype}`);
    const base = (xi: Tensor): Tensor => plainLinear(xi, param(`${name}.weight`), param(`${name}.bias`), name);
    const y = hook ? hook(name, x, base) : base(x);
    const outF = shapes.get(`${name}.weight`)![0]!;
    const want = [...x.shape.slice(0, -1), outF];
    if (y.rank !== want.length || y.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError('LinearHook', [x.shape, y.shape], `${name}: the hook must return [${want.join(',')}]`);
    }
    return y;
  };
  return { graph: g, dtype, param, linear };
}
