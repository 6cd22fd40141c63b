// The DiT `config.json` as Wan ships it, translated into our DitConfig. Two spellings exist:
//   - official WanModel (Wan-AI/Wan2.2-TI2V-5B/config.json, written by diffusers' ConfigMixin):
//     model_type, text_len, in_dim, dim, ffn_dim, freq_dim, out_dim, num_heads, num_layers, eps. The
//     class lists patch_size, cross_attn_norm, qk_norm, text_dim and window_size in ignore_for_config,
//     so they are usually absent and take the constructor defaults; they are accepted when present.
//   - Diffusers WanTransformer3DModel (transformer/config.json of the -Diffusers repos): patch_size,
//     num_attention_heads, attention_head_dim, in_channels, out_channels, text_dim, freq_dim, ffn_dim,
//     num_layers, cross_attn_norm, qk_norm ("rms_norm_across_heads"), eps, image_dim, added_kv_proj_dim,
//     rope_max_seq_len, pos_embed_seq_len.
// Missing keys take the defaults of the official constructors (W22 model.py WanModel.__init__; the
// Diffusers class's defaults), exactly as `from_pretrained` would. Keys we do not know are refused by
// name; option values the engine does not implement are refused by arch-options.ts.
import type { DitConfig } from '../config.js';
import { unsupportedOptions } from './arch-options.js';

export class OfficialConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0]! : `\n${problems.map((p) => `  - ${p}`).join('\n')}`}`);
    this.name = 'OfficialConfigError';
  }
}

/** WanModel.__init__ defaults (W22 wan/modules/model.py). */
const WAN_MODEL_DEFAULTS = {
  model_type: 't2v',
  patch_size: [1, 2, 2],
  text_len: 512,
  in_dim: 16,
  dim: 2048,
  ffn_dim: 8192,
  freq_dim: 256,
  text_dim: 4096,
  out_dim: 16,
  num_heads: 16,
  num_layers: 32,
  window_size: [-1, -1],
  qk_norm: true,
  cross_attn_norm: true,
  eps: 1e-6,
} as const;

/** WanTransformer3DModel.__init__ defaults (diffusers transformer_wan.py). */
const DIFFUSERS_DEFAULTS = {
  patch_size: [1, 2, 2],
  num_attention_heads: 40,
  attention_head_dim: 128,
  in_channels: 16,
  out_channels: 16,
  text_dim: 4096,
  freq_dim: 256,
  ffn_dim: 13824,
  num_layers: 40,
  cross_attn_norm: true,
  qk_norm: 'rms_norm_across_heads',
  eps: 1e-6,
  image_dim: null,
  added_kv_proj_dim: null,
  rope_max_seq_len: 1024,
  pos_embed_seq_len: null,
} as const;

/** Bookkeeping keys ConfigMixin writes ("_class_name", "_diffusers_version", "__name__", ...). */
const isMeta = (k: string): boolean => k.startsWith('_');

const WAN_CLASS = new Set(['WanModel']);
const DIFFUSERS_CLASS = new Set(['WanTransformer3DModel']);

/** Whether `json` looks like a shipped Wan DiT config (rather than our own architecture object). */
export function isOfficialDitConfig(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  if (typeof o._class_name === 'string' && (WAN_CLASS.has(o._class_name) || DIFFUSERS_CLASS.has(o._class_name))) return true;
  if ('dit' in o || 'vae' in o) return false;
  return ['model_type', 'in_dim', 'num_heads', 'num_layers', 'num_attention_heads', 'in_channels'].some((k) => k in o);
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * The DitConfig an official config.json describes. Throws OfficialConfigError listing every problem
 * (unknown keys, wrong types, unsupported options), each naming the key.
 */
export function ditConfigFromOfficial(json: unknown, file: string): DitConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new OfficialConfigError(file, ['not a JSON object']);
  const o = json as Record<string, unknown>;
  const diffusers = (typeof o._class_name === 'string' && DIFFUSERS_CLASS.has(o._class_name)) || 'num_attention_heads' in o || 'in_channels' in o;
  const defaults: Record<string, unknown> = diffusers ? DIFFUSERS_DEFAULTS : WAN_MODEL_DEFAULTS;
  const problems: string[] = [];
  const unknown = Object.keys(o).filter((k) => !isMeta(k) && !(k in defaults));
  if (unknown.length) {
    problems.push(
      `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} for a ${diffusers ? 'Diffusers WanTransformer3DModel' : 'Wan WanModel'} config ` +
        `(known: ${Object.keys(defaults).join(', ')})`,
    );
  }
  const get = (k: string): unknown => (o[k] === undefined ? defaults[k] : o[k]);
  const int = (k: string): number => {
    const v = get(k);
    if (!isPosInt(v)) problems.push(`"${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const pair = (k: string, len: number): number[] => {
    const v = get(k);
    if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
      problems.push(`"${k}" must be a list of ${len} integers, got ${JSON.stringify(v)}`);
      return [];
    }
    return v as number[];
  };

  const patch = pair('patch_size', 3);
  if (patch.length === 3 && !patch.every((p) => p > 0)) problems.push(`"patch_size" must be positive, got ${JSON.stringify(patch)}`);
  const eps = get('eps');
  if (typeof eps !== 'number' || !(eps > 0)) problems.push(`"eps" must be a positive number, got ${JSON.stringify(eps)}`);

  let dit: DitConfig;
  if (diffusers) {
    const heads = int('num_attention_heads');
    const headDim = int('attention_head_dim');
    const qk = get('qk_norm');
    // Diffusers spells the q/k norm as a string; only the full-width RMS norm is Wan's.
    if (qk !== 'rms_norm_across_heads') problems.push(`"qk_norm" ${JSON.stringify(qk)} is not supported, only "rms_norm_across_heads": the DiT graph applies the RMS norm to q and k over the full width`);
    for (const k of ['image_dim', 'added_kv_proj_dim', 'pos_embed_seq_len'] as const) {
      if (get(k) !== null) problems.push(`"${k}" ${JSON.stringify(get(k))} is not supported, only null: it adds the image-embedding branch of the Wan2.1 I2V/FLF2V models, which TI2V does not have`);
    }
    if (get('rope_max_seq_len') !== 1024) problems.push(`"rope_max_seq_len" ${JSON.stringify(get('rope_max_seq_len'))} is not supported, only 1024 (Wan's RoPE table)`);
    // `out_channels = out_channels or in_channels` in the Diffusers constructor.
    const inDim = int('in_channels');
    dit = {
      inDim,
      outDim: o.out_channels === null ? inDim : int('out_channels'),
      patch: patch as unknown as DitConfig['patch'],
      dim: heads * headDim,
      ffnDim: int('ffn_dim'),
      heads,
      layers: int('num_layers'),
      freqDim: int('freq_dim'),
      textDim: int('text_dim'),
      // The Diffusers config has no text length: its pipeline pads prompts to 512 like Wan's.
      textLen: 512,
      eps: eps as number,
      modelType: 'ti2v',
      qkNorm: true,
      crossAttnNorm: get('cross_attn_norm') as true,
      windowSize: [-1, -1],
    };
  } else {
    const window = pair('window_size', 2);
    dit = {
      inDim: int('in_dim'),
      outDim: int('out_dim'),
      patch: patch as unknown as DitConfig['patch'],
      dim: int('dim'),
      ffnDim: int('ffn_dim'),
      heads: int('num_heads'),
      layers: int('num_layers'),
      freqDim: int('freq_dim'),
      textDim: int('text_dim'),
      textLen: int('text_len'),
      eps: eps as number,
      modelType: get('model_type') as 'ti2v',
      qkNorm: get('qk_norm') as true,
      crossAttnNorm: get('cross_attn_norm') as true,
      windowSize: window as unknown as readonly [-1, -1],
    };
    if (typeof get('model_type') !== 'string') problems.push(`"model_type" must be a string, got ${JSON.stringify(get('model_type'))}`);
  }
  for (const k of ['qk_norm', 'cross_attn_norm'] as const) {
    const v = o[k];
    if (v !== undefined && typeof v !== 'boolean' && !(diffusers && k === 'qk_norm')) problems.push(`"${k}" must be true or false, got ${JSON.stringify(v)}`);
  }
  if (!problems.length) {
    if (dit.dim % dit.heads !== 0 || (dit.dim / dit.heads) % 2 !== 0) problems.push(`"dim" ${dit.dim} must split into ${dit.heads} heads of an even width (the official model asserts the same)`);
    for (const p of unsupportedOptions({ dit })) problems.push(p.message);
  }
  if (problems.length) throw new OfficialConfigError(file, problems);
  return dit;
}
