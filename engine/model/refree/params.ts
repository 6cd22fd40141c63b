// The ReFree adapter's parameters by name and shape (one source of truth for graphs, checkpoints and
// `models describe`), their intended initialisation, and the accessor graph code uses.
//
//   refree.speech_encoder.null_speech                  [speechDim]              the learned "no speech" features
//   refree.speech_encoder.in_proj.{weight,bias}        [D, speechDim], [D]
//   refree.speech_encoder.levels.{l}.conv.{weight,bias} [D, D, K_l], [D]        Conv1d per level
//   refree.speech_encoder.level_embed                  [L, D]                   level-index embedding
//   refree.speech_encoder.norm_mlp.{weight,bias}       [D]                      LN before the shared MLP
//   refree.speech_encoder.mlp.{0,2}.{weight,bias}      [M, D], [M]; [D, M], [D] shared by all levels
//   refree.speech_encoder.pool.{weight,bias}           [D, W·D], [D]            learned window pooling
//   refree.speech_encoder.norm_out.{weight,bias}       [D]
//   refree.speech_encoder.window_pos                   [W, D]                   cross-attention mode only
//   refree.blocks.{i}.selector                         [L]                      level selector logits
//   refree.blocks.{i}.film.{weight,bias}               [2·dim, D], [2·dim]      rows: γ (heads in order), then β
//   refree.blocks.{i}.cross_attn.{q,o}.{weight,bias}   [dim, dim], [dim]        cross-attention mode only
//   refree.blocks.{i}.cross_attn.{k,v}.{weight,bias}   [dim, D], [dim]
//   refree.blocks.{i}.cross_attn.norm_{q,k}.weight     [dim]
import type { Graph, Tensor } from '../../graph/graph.js';
import type { DType } from '../../graph/dtype.js';
import { GraphBuildError } from '../../graph/errors.js';
import { cast } from '../../graph/ops/elementwise.js';
import type { ParamSpec } from '../inventory/types.js';
import { linearParams } from '../inventory/types.js';
import { randomWeights } from '../random-weights.js';
import type { WeightEntry, WeightProvider } from '../weight-provider.js';
import type { ReFreeConfig } from './config.js';
import { windowLength } from './frames.js';

export const ENC = 'refree.speech_encoder';
export const blockPrefix = (i: number): string => `refree.blocks.${i}`;

export function speechEncoderParams(c: ReFreeConfig): ParamSpec[] {
  const D = c.hidden;
  const W = windowLength(c.window, c.temporalStride);
  const specs: ParamSpec[] = [{ name: `${ENC}.null_speech`, shape: [c.speechDim] }, ...linearParams(`${ENC}.in_proj`, c.speechDim, D)];
  c.kernelSizes.forEach((k, l) => specs.push({ name: `${ENC}.levels.${l}.conv.weight`, shape: [D, D, k] }, { name: `${ENC}.levels.${l}.conv.bias`, shape: [D] }));
  specs.push(
    { name: `${ENC}.level_embed`, shape: [c.levels, D] },
    { name: `${ENC}.norm_mlp.weight`, shape: [D] },
    { name: `${ENC}.norm_mlp.bias`, shape: [D] },
    ...linearParams(`${ENC}.mlp.0`, D, c.mlpHidden),
    ...linearParams(`${ENC}.mlp.2`, c.mlpHidden, D),
    ...linearParams(`${ENC}.pool`, W * D, D),
    { name: `${ENC}.norm_out.weight`, shape: [D] },
    { name: `${ENC}.norm_out.bias`, shape: [D] },
  );
  if (c.mode === 'cross-attention') specs.push({ name: `${ENC}.window_pos`, shape: [W, D] });
  return specs;
}

export function injectionBlockParams(c: ReFreeConfig, i: number): ParamSpec[] {
  const p = blockPrefix(i);
  const specs: ParamSpec[] = [{ name: `${p}.selector`, shape: [c.levels] }];
  if (c.mode === 'film') specs.push(...linearParams(`${p}.film`, c.hidden, 2 * c.dim));
  else {
    const a = `${p}.cross_attn`;
    specs.push(
      ...linearParams(`${a}.q`, c.dim, c.dim),
      ...linearParams(`${a}.k`, c.hidden, c.dim),
      ...linearParams(`${a}.v`, c.hidden, c.dim),
      ...linearParams(`${a}.o`, c.dim, c.dim),
      { name: `${a}.norm_q.weight`, shape: [c.dim] },
      { name: `${a}.norm_k.weight`, shape: [c.dim] },
    );
  }
  return specs;
}

/** Every adapter parameter (encoder, then each injection block in order). */
export function refreeParams(c: ReFreeConfig): ParamSpec[] {
  return [...speechEncoderParams(c), ...c.injectBlocks.flatMap((i) => injectionBlockParams(c, i))];
}

/** Parameters whose initial value is zero so that an untrained adapter leaves the DiT unchanged. */
export function isZeroInit(name: string): boolean {
  return /^refree\.blocks\.\d+\.(film\.(weight|bias)|cross_attn\.o\.(weight|bias)|selector)$/.test(name) || name === `${ENC}.null_speech`;
}

/**
 * The adapter's starting weights: seeded fan-in normals (random-weights.ts; norm scales 1), with the
 * FiLM projection and the cross-attention output projection zeroed (identity at init: γ = β = 0,
 * attention adds 0), the selectors zeroed (uniform 1/L over the levels) and the null speech zeroed
 * (masked speech starts as silence-like zero features; training learns its own "no speech" input).
 */
export function refreeInitWeights(c: ReFreeConfig, seed: number): Map<string, WeightEntry> {
  const w = randomWeights(refreeParams(c), seed);
  for (const [name, e] of w) {
    if (isZeroInit(name)) w.set(name, { ...e, data: { kind: 'inline', data: new Float32Array(e.shape.reduce((a, b) => a * b, 1)) } });
  }
  return w;
}

export interface ReFreeWeights {
  readonly graph: Graph;
  /** A parameter by name, cast to `dtype` when given and different. */
  param(name: string, dtype?: DType): Tensor;
}

export function refreeWeights(g: Graph, c: ReFreeConfig, provider: WeightProvider): ReFreeWeights {
  const shapes = new Map(refreeParams(c).map((p) => [p.name, p.shape]));
  const cache = new Map<string, Tensor>();
  return {
    graph: g,
    param(name: string, dtype?: DType): Tensor {
      const shape = shapes.get(name);
      if (!shape) throw new GraphBuildError('ReFree', `"${name}" is not a parameter of this ReFree configuration (mode ${c.mode}, inject blocks [${c.injectBlocks.join(',')}])`);
      let t = cache.get(name);
      if (!t) cache.set(name, (t = provider.get(g, name, shape)));
      if (!dtype || t.dtype === dtype) return t;
      const key = `${name}|${dtype}`;
      let cst = cache.get(key);
      if (!cst) cache.set(key, (cst = cast(t, dtype)));
      return cst;
    },
  };
}
