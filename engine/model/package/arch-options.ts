// The architecture options of the official Wan2.2 code (WanModel, WanVAE_, T5Encoder) that the engine
// implements in one way only. They are declared in the architecture config (engine/model/config.ts) so
// a config may state them; a value the engine does not implement is refused by name here, instead of
// being silently run as the one value the graphs know.
import type { ModelArchitecture } from '../config.js';

export interface OptionRule {
  /** Field path in our config, e.g. 'dit.qkNorm'. */
  field: string;
  /** The official name of the option (config.json key / constructor argument). */
  official: string;
  /** The only value the engine implements (also the default when absent). */
  supported: unknown;
  /** Why another value cannot run, in words. */
  why: string;
}

export const OPTION_RULES: readonly OptionRule[] = [
  { field: 'dit.modelType', official: 'model_type', supported: 'ti2v', why: 'the engine runs the Wan2.2 TI2V model; "t2v", "i2v" and "s2v" checkpoints use other pipelines (Wan2.1 VAE, image channels, audio blocks)' },
  { field: 'dit.qkNorm', official: 'qk_norm', supported: true, why: 'the DiT graph always applies the RMS norm to q and k, as every released Wan2.2 model does' },
  { field: 'dit.crossAttnNorm', official: 'cross_attn_norm', supported: true, why: 'the DiT graph always applies the affine LayerNorm (norm3) before cross-attention' },
  { field: 'dit.windowSize', official: 'window_size', supported: [-1, -1], why: 'the DiT graph has global attention only (no local windows)' },
  { field: 'vae.attnScales', official: 'attn_scales', supported: [], why: 'the VAE graph has attention in its middle blocks only' },
  { field: 't5.sharedPos', official: 'shared_pos', supported: false, why: 'the umT5 graph has one relative-position table per layer' },
];

function valueAt(arch: Record<string, unknown>, field: string): unknown {
  const [part, key] = field.split('.') as [string, string];
  const obj = arch[part];
  return obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined;
}

const show = (v: unknown): string => JSON.stringify(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface OptionProblem {
  /** Field path in our config, e.g. ['dit', 'qkNorm']. */
  path: string[];
  /** What is wrong, naming the official option, e.g. 'qk_norm false is not supported, only true: ...'. */
  message: string;
}

/** Each declared option whose value the engine does not implement (absent = the supported value). */
export function unsupportedOptions(arch: ModelArchitecture | Record<string, unknown>): OptionProblem[] {
  const a = arch as Record<string, unknown>;
  const out: OptionProblem[] = [];
  for (const r of OPTION_RULES) {
    const v = valueAt(a, r.field);
    if (v === undefined || same(v, r.supported)) continue;
    out.push({ path: r.field.split('.'), message: `${r.official} ${show(v)} is not supported, only ${show(r.supported)}: ${r.why}` });
  }
  const t5 = a.t5 as { dim?: number; dimAttn?: number } | null | undefined;
  if (t5 && t5.dimAttn !== undefined && t5.dimAttn !== t5.dim) {
    out.push({ path: ['t5', 'dimAttn'], message: `dim_attn ${t5.dimAttn} is not supported, only the model width (${t5.dim}): the umT5 graph's q/k/v are as wide as the model` });
  }
  return out;
}
