// wav2vec2 built by our graph language from the Hugging Face checkpoint (Wav2Vec2Model /
// Wav2Vec2ForCTC: `model.safetensors` or `pytorch_model.bin`, config.json), so no ONNX export step
// with Python is needed. The network is transformers' modeling_wav2vec2.py for the base-size layout
// (feat_extract_norm "group", do_stable_layer_norm false), read from the code, not traced:
//
//   x [1, S] -> conv0 (k10 s5, no bias) -> GroupNorm(C groups = per-channel over time, affine) -> GELU
//            -> conv1..6 (k3,3,3,3,2,2 s2, no bias) -> GELU each                 -> [1, C, T]
//            -> transpose -> LayerNorm(C) -> Linear(C -> H)                        (feature_projection)
//   pos = GELU(conv1d(h^T, weight-norm(g, v) over dim 2, k128, pad 64, groups 16)[..., :T])
//   h = LayerNorm(h + pos)                                                         -> hidden_states.0
//   each layer (post-LN): h = LN(h + Attn(h)); h = LN(h + W2·GELU(W1·h))           -> hidden_states.i
//
// GELU is the exact (erf) one (hidden_act / feat_extract_activation "gelu"); every LayerNorm uses
// layer_norm_eps (1e-5 in the released models), the GroupNorm torch's fixed default 1e-5. Attention has no mask (the group-norm models take none) and
// scales q by head_dim^-0.5. Dropout, masking and the CTC head are training/decoding parts, left out.
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/graph.js';
import { GraphBuildError } from '../../graph/errors.js';
import { geluFused } from '../../graph/ops/activations.js';
import { attention } from '../../graph/ops/attention.js';
import { conv } from '../../graph/ops/conv.js';
import { add, div, mul, sqrt } from '../../graph/ops/elementwise.js';
import { narrow } from '../../graph/ops/indexing.js';
import { linear } from '../../graph/ops/matmul.js';
import { layerNorm } from '../../graph/ops/normalization.js';
import { reduceSum } from '../../graph/ops/reduce.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import type { ParamSpec } from '../inventory/types.js';
import type { WeightProvider } from '../weight-provider.js';

/** nn.GroupNorm's default eps, which Wav2Vec2GroupNormConvLayer keeps whatever layer_norm_eps says. */
const GROUP_NORM_EPS = 1e-5;

export interface Wav2Vec2Config {
  /** conv_dim, conv_kernel, conv_stride of the feature extractor (one entry per conv layer). */
  convDim: readonly number[];
  convKernel: readonly number[];
  convStride: readonly number[];
  /** conv_bias: the feature-extractor convs have biases. */
  convBias: boolean;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  /** num_conv_pos_embeddings / num_conv_pos_embedding_groups. */
  posConvKernel: number;
  posConvGroups: number;
  /** layer_norm_eps. */
  eps: number;
}

/** facebook/wav2vec2-base-960h (and every wav2vec2-base): 95M parameters. */
export const WAV2VEC2_BASE: Wav2Vec2Config = {
  convDim: [512, 512, 512, 512, 512, 512, 512],
  convKernel: [10, 3, 3, 3, 3, 2, 2],
  convStride: [5, 2, 2, 2, 2, 2, 2],
  convBias: false,
  hiddenSize: 768,
  layers: 12,
  heads: 12,
  intermediateSize: 3072,
  posConvKernel: 128,
  posConvGroups: 16,
  eps: 1e-5,
};

export class Wav2Vec2ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'Wav2Vec2ConfigError';
  }
}

/**
 * The config a Hugging Face wav2vec2 config.json describes. Options whose other values change the
 * network in ways this graph does not build are refused by name.
 */
export function wav2vec2ConfigFromHf(json: unknown, file: string): Wav2Vec2Config {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Wav2Vec2ConfigError(file, ['not a JSON object']);
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  const want = (k: string, supported: unknown, why: string) => {
    if (o[k] !== undefined && JSON.stringify(o[k]) !== JSON.stringify(supported)) problems.push(`${k} ${JSON.stringify(o[k])} is not supported, only ${JSON.stringify(supported)}: ${why}`);
  };
  want('feat_extract_norm', 'group', 'the graph builds the base-size feature extractor (GroupNorm on the first conv only)');
  want('do_stable_layer_norm', false, 'the graph builds the post-LayerNorm transformer of the base-size models');
  want('hidden_act', 'gelu', 'the graph uses the exact GELU');
  want('feat_extract_activation', 'gelu', 'the graph uses the exact GELU');
  want('position_embeddings_type', undefined, 'only the convolutional positional embedding is built');
  want('add_adapter', false, 'the graph has no adapter layers after the encoder');
  if (o.model_type !== undefined && o.model_type !== 'wav2vec2') problems.push(`model_type ${JSON.stringify(o.model_type)} is not supported, only "wav2vec2"`);
  const ints = (k: string, dflt: readonly number[]): number[] => {
    const v = o[k] ?? dflt;
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && (x as number) > 0)) {
      problems.push(`"${k}" must be a list of positive integers, got ${JSON.stringify(v)}`);
      return [...dflt];
    }
    return v as number[];
  };
  const int = (k: string, dflt: number): number => {
    const v = o[k] ?? dflt;
    if (!Number.isInteger(v) || (v as number) <= 0) problems.push(`"${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const b = WAV2VEC2_BASE;
  const c: Wav2Vec2Config = {
    convDim: ints('conv_dim', b.convDim),
    convKernel: ints('conv_kernel', b.convKernel),
    convStride: ints('conv_stride', b.convStride),
    convBias: o.conv_bias === true,
    hiddenSize: int('hidden_size', b.hiddenSize),
    layers: int('num_hidden_layers', b.layers),
    heads: int('num_attention_heads', b.heads),
    intermediateSize: int('intermediate_size', b.intermediateSize),
    posConvKernel: int('num_conv_pos_embeddings', b.posConvKernel),
    posConvGroups: int('num_conv_pos_embedding_groups', b.posConvGroups),
    eps: typeof o.layer_norm_eps === 'number' ? o.layer_norm_eps : b.eps,
  };
  if (c.convDim.length !== c.convKernel.length || c.convDim.length !== c.convStride.length) problems.push(`conv_dim, conv_kernel and conv_stride must have one entry per conv layer (got ${c.convDim.length}, ${c.convKernel.length}, ${c.convStride.length})`);
  if (c.hiddenSize % c.heads !== 0) problems.push(`hidden_size ${c.hiddenSize} must split into ${c.heads} heads`);
  if (c.hiddenSize % c.posConvGroups !== 0) problems.push(`hidden_size ${c.hiddenSize} must split into ${c.posConvGroups} positional-conv groups`);
  if (problems.length) throw new Wav2Vec2ConfigError(file, problems);
  return c;
}

/** Parameters by their Wav2Vec2Model names (the `wav2vec2.` prefix of Wav2Vec2ForCTC stripped). */
export function wav2vec2Params(c: Wav2Vec2Config): ParamSpec[] {
  const s: ParamSpec[] = [];
  let cin = 1;
  c.convDim.forEach((cout, i) => {
    const p = `feature_extractor.conv_layers.${i}`;
    s.push({ name: `${p}.conv.weight`, shape: [cout, cin, c.convKernel[i]!] });
    if (c.convBias) s.push({ name: `${p}.conv.bias`, shape: [cout] });
    if (i === 0) s.push({ name: `${p}.layer_norm.weight`, shape: [cout] }, { name: `${p}.layer_norm.bias`, shape: [cout] });
    cin = cout;
  });
  const H = c.hiddenSize;
  s.push(
    { name: 'feature_projection.layer_norm.weight', shape: [cin] },
    { name: 'feature_projection.layer_norm.bias', shape: [cin] },
    { name: 'feature_projection.projection.weight', shape: [H, cin] },
    { name: 'feature_projection.projection.bias', shape: [H] },
    { name: 'encoder.pos_conv_embed.conv.weight_g', shape: [1, 1, c.posConvKernel] },
    { name: 'encoder.pos_conv_embed.conv.weight_v', shape: [H, H / c.posConvGroups, c.posConvKernel] },
    { name: 'encoder.pos_conv_embed.conv.bias', shape: [H] },
    { name: 'encoder.layer_norm.weight', shape: [H] },
    { name: 'encoder.layer_norm.bias', shape: [H] },
  );
  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) s.push({ name: `${p}.attention.${n}.weight`, shape: [H, H] }, { name: `${p}.attention.${n}.bias`, shape: [H] });
    s.push(
      { name: `${p}.layer_norm.weight`, shape: [H] },
      { name: `${p}.layer_norm.bias`, shape: [H] },
      { name: `${p}.feed_forward.intermediate_dense.weight`, shape: [c.intermediateSize, H] },
      { name: `${p}.feed_forward.intermediate_dense.bias`, shape: [c.intermediateSize] },
      { name: `${p}.feed_forward.output_dense.weight`, shape: [H, c.intermediateSize] },
      { name: `${p}.feed_forward.output_dense.bias`, shape: [H] },
      { name: `${p}.final_layer_norm.weight`, shape: [H] },
      { name: `${p}.final_layer_norm.bias`, shape: [H] },
    );
  }
  return s;
}

/** Frames the feature extractor gives for `samples` input samples (0 when too short). */
export function wav2vec2Frames(c: Wav2Vec2Config, samples: number): number {
  let t = samples;
  for (let i = 0; i < c.convKernel.length; i++) t = t < c.convKernel[i]! ? 0 : Math.floor((t - c.convKernel[i]!) / c.convStride[i]!) + 1;
  return t;
}

export interface Wav2Vec2GraphOptions {
  /** Hidden-state indices to output (0: after the positional conv and encoder LayerNorm; i: after layer i). */
  layers: readonly number[];
  /** Output name per index; `{i}` is replaced by it. Default 'hidden_states.{i}'. */
  outputPattern?: string;
  /** Input name; default 'input_values'. */
  inputName?: string;
}

/** A graph with input [1, samples] float32 and outputs [1, frames, hiddenSize] per requested layer. */
export function buildWav2Vec2Graph(c: Wav2Vec2Config, provider: WeightProvider, samples: number, opts: Wav2Vec2GraphOptions): Graph {
  const frames = wav2vec2Frames(c, samples);
  if (frames < 1) throw new GraphBuildError('wav2vec2', `${samples} samples are too few for one frame`);
  for (const i of opts.layers) if (!Number.isInteger(i) || i < 0 || i > c.layers) throw new GraphBuildError('wav2vec2', `hidden state ${i} does not exist (0..${c.layers})`);
  const g = new Graph('wav2vec2');
  const w = (name: string, shape: readonly number[]): Tensor => provider.get(g, name, shape);
  const H = c.hiddenSize;

  // Feature extractor: [1, 1, S] -> [1, C, T].
  let x = reshape(g.input(opts.inputName ?? 'input_values', 'float32', [1, samples]), [1, 1, samples]);
  let cin = 1;
  c.convDim.forEach((cout, i) => {
    const p = `feature_extractor.conv_layers.${i}`;
    x = conv(x, w(`${p}.conv.weight`, [cout, cin, c.convKernel[i]!]), c.convBias ? w(`${p}.conv.bias`, [cout]) : null, { strides: [c.convStride[i]!] });
    if (i === 0) {
      // GroupNorm with one group per channel: each channel normalised over time, then its affine.
      // transformers builds it as nn.GroupNorm(...) with torch's default eps, not layer_norm_eps.
      x = layerNorm(x, null, null, { axis: -1, eps: GROUP_NORM_EPS });
      x = add(mul(x, reshape(w(`${p}.layer_norm.weight`, [cout]), [cout, 1])), reshape(w(`${p}.layer_norm.bias`, [cout]), [cout, 1]));
    }
    x = geluFused(x, 'erf');
    cin = cout;
  });

  // Feature projection: [1, T, C] -> [1, T, H].
  let h = transpose(x, [0, 2, 1]);
  h = layerNorm(h, w('feature_projection.layer_norm.weight', [cin]), w('feature_projection.layer_norm.bias', [cin]), { eps: c.eps });
  h = linear(h, w('feature_projection.projection.weight', [H, cin]), w('feature_projection.projection.bias', [H]));

  // Convolutional positional embedding; weight_norm(dim=2): weight = g · v / ‖v‖ with the norm taken
  // over the output and input channels of each kernel tap.
  const K = c.posConvKernel;
  const v = w('encoder.pos_conv_embed.conv.weight_v', [H, H / c.posConvGroups, K]);
  const weight = mul(w('encoder.pos_conv_embed.conv.weight_g', [1, 1, K]), div(v, sqrt(reduceSum(mul(v, v), [0, 1], true))));
  let pos = conv(transpose(h, [0, 2, 1]), weight, w('encoder.pos_conv_embed.conv.bias', [H]), { pads: [K >> 1, K >> 1], group: c.posConvGroups });
  // An even kernel gives one frame too many (Wav2Vec2SamePadLayer drops the last).
  if (K % 2 === 0) pos = narrow(pos, 2, 0, frames);
  h = add(h, transpose(geluFused(pos, 'erf'), [0, 2, 1]));
  h = layerNorm(h, w('encoder.layer_norm.weight', [H]), w('encoder.layer_norm.bias', [H]), { eps: c.eps });

  const pattern = opts.outputPattern ?? 'hidden_states.{i}';
  const emit = (i: number, t: Tensor) => {
    if (opts.layers.includes(i)) g.output(t, pattern.replace('{i}', String(i)));
  };
  emit(0, h);
  const dh = H / c.heads;
  const heads = (t: Tensor) => transpose(reshape(t, [1, frames, c.heads, dh]), [0, 2, 1, 3]);
  const last = Math.max(...opts.layers);
  for (let i = 0; i < last; i++) {
    const p = `encoder.layers.${i}`;
    const proj = (n: string, t: Tensor) => linear(t, w(`${p}.attention.${n}.weight`, [H, H]), w(`${p}.attention.${n}.bias`, [H]));
    const a = attention(heads(proj('q_proj', h)), heads(proj('k_proj', h)), heads(proj('v_proj', h)), { scale: 1 / Math.sqrt(dh) });
    h = add(h, proj('out_proj', reshape(transpose(a, [0, 2, 1, 3]), [1, frames, H])));
    h = layerNorm(h, w(`${p}.layer_norm.weight`, [H]), w(`${p}.layer_norm.bias`, [H]), { eps: c.eps });
    const f = linear(geluFused(linear(h, w(`${p}.feed_forward.intermediate_dense.weight`, [c.intermediateSize, H]), w(`${p}.feed_forward.intermediate_dense.bias`, [c.intermediateSize])), 'erf'), w(`${p}.feed_forward.output_dense.weight`, [H, c.intermediateSize]), w(`${p}.feed_forward.output_dense.bias`, [H]));
    h = layerNorm(add(h, f), w(`${p}.final_layer_norm.weight`, [H]), w(`${p}.final_layer_norm.bias`, [H]), { eps: c.eps });
    emit(i + 1, h);
  }
  return g;
}
