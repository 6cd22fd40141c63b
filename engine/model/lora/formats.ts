// LoRA key names in the two file formats Wan LoRAs come in (wan2.2-ti2v-5b.md §6):
//
//   'diffsynth' (DiffSynth-Studio / PEFT): blocks.{i}.self_attn.q.lora_A.default.weight [r, in]
//               and .lora_B.default.weight [out, r]; ".default" optional; no alpha key (scale 1); an
//               optional `<module>.alpha` is honoured the way DiffSynth's loader folds it.
//   'kohya'     (musubi-tuner / kohya sd-scripts): lora_unet_blocks_{i}_self_attn_q.lora_down.weight
//               [r, in], .lora_up.weight [out, r], .alpha (scalar; scale alpha/r; rank when absent).
//
// Either may carry a ComfyUI prefix (`diffusion_model.` or `model.diffusion_model.`). ComfyUI-made
// files also mix the styles (dotted module names with lora_down/lora_up): accepted, detected as kohya.
//
// Kohya names are the dotted module path with "." -> "_", which loses information in general
// (self_attn vs self.attn, ffn_0 vs ffn.0). The inverse is therefore NOT a character replacement but
// an explicit grammar of the DiT's linears below; every name it accepts maps to exactly one module, and
// the mapping is a bijection on the DiT's linears (tested over the 5B model's 300+7).
import { COMFY_PREFIXES } from '../weights/keymap.js';

export type LoraFormat = 'diffsynth' | 'kohya';

/** The DiT's linears by dotted name (blocks with any index; patch_embedding excluded, see config.ts). */
const DOTTED_MODULE = /^(?:blocks\.(?:0|[1-9]\d*)\.(?:self_attn|cross_attn)\.[qkvo]|blocks\.(?:0|[1-9]\d*)\.ffn\.[02]|text_embedding\.[02]|time_embedding\.[02]|time_projection\.1|head\.head)$/;

/** Kohya module grammar: group 1 is the dotted module with its separators restored. */
const KOHYA_MODULE: readonly (readonly [RegExp, (m: RegExpExecArray) => string])[] = [
  [/^lora_unet_blocks_(0|[1-9]\d*)_(self_attn|cross_attn)_([qkvo])$/, (m) => `blocks.${m[1]}.${m[2]}.${m[3]}`],
  [/^lora_unet_blocks_(0|[1-9]\d*)_ffn_([02])$/, (m) => `blocks.${m[1]}.ffn.${m[2]}`],
  [/^lora_unet_(text_embedding|time_embedding)_([02])$/, (m) => `${m[1]}.${m[2]}`],
  [/^lora_unet_time_projection_1$/, () => 'time_projection.1'],
  [/^lora_unet_head_head$/, () => 'head.head'],
];

export const KOHYA_PREFIX = 'lora_unet_';

/** 'blocks.3.self_attn.q' -> 'lora_unet_blocks_3_self_attn_q'. Throws for a name that is not a DiT linear. */
export function kohyaModuleName(module: string): string {
  if (!DOTTED_MODULE.test(module)) throw new Error(`'${module}' is not a LoRA-capable linear of the Wan DiT`);
  return KOHYA_PREFIX + module.replace(/\./g, '_');
}

/** 'lora_unet_blocks_3_ffn_0' -> 'blocks.3.ffn.0', or null when the name is not one of the DiT's linears. */
export function moduleFromKohya(name: string): string | null {
  for (const [re, to] of KOHYA_MODULE) {
    const m = re.exec(name);
    if (m) return to(m);
  }
  return null;
}

/** Whether a dotted name is one of the DiT's linears. */
export function isDottedModule(name: string): boolean {
  return DOTTED_MODULE.test(name);
}

export type LoraPart = 'A' | 'B' | 'alpha';

export interface ParsedLoraKey {
  /** The key as in the file. */
  key: string;
  /** ComfyUI prefix stripped ('' when none). */
  prefix: string;
  /** Dotted module name. */
  module: string;
  part: LoraPart;
  /** Which format this key's suffix belongs to; null for `.alpha`, which both use. */
  style: LoraFormat | null;
}

const SUFFIXES: readonly (readonly [string, LoraPart, LoraFormat | null])[] = [
  ['.lora_A.default.weight', 'A', 'diffsynth'],
  ['.lora_B.default.weight', 'B', 'diffsynth'],
  ['.lora_A.weight', 'A', 'diffsynth'],
  ['.lora_B.weight', 'B', 'diffsynth'],
  ['.lora_down.weight', 'A', 'kohya'],
  ['.lora_up.weight', 'B', 'kohya'],
  ['.alpha', 'alpha', null],
];

/**
 * Parses one key, or returns null when it is not an A/B/alpha tensor of a DiT linear (DoRA scales,
 * `diff` tensors, text-encoder LoRAs, conv adapters, typos: all reported as unknown by the loader).
 */
export function parseLoraKey(key: string): ParsedLoraKey | null {
  const prefix = COMFY_PREFIXES.find((p) => key.startsWith(p)) ?? '';
  const bare = key.slice(prefix.length);
  for (const [suffix, part, style] of SUFFIXES) {
    if (!bare.endsWith(suffix)) continue;
    const stem = bare.slice(0, -suffix.length);
    const module = stem.startsWith(KOHYA_PREFIX) ? moduleFromKohya(stem) : isDottedModule(stem) ? stem : null;
    if (module === null) return null;
    // lora_unet_ names only ever come with kohya suffixes or .alpha; a lora_A on one is not a known file.
    if (stem.startsWith(KOHYA_PREFIX) && style === 'diffsynth') return null;
    return { key, prefix, module, part, style: style ?? (stem.startsWith(KOHYA_PREFIX) ? 'kohya' : null) };
  }
  return null;
}

export interface KeyNames {
  a: string;
  b: string;
  /** null: the format stores no alpha (DiffSynth; alpha/r is folded into B on save). */
  alpha: string | null;
}

export interface KeyNameOptions {
  /** DiffSynth only: write `.lora_A.default.weight` (as DiffSynth saves) or `.lora_A.weight`. Default true. */
  withDefault?: boolean;
  /** Prepended to every key, e.g. 'diffusion_model.' for ComfyUI. Default ''. */
  prefix?: string;
}

/** The keys one module's tensors are saved under. */
export function loraKeyNames(module: string, format: LoraFormat, opts: KeyNameOptions = {}): KeyNames {
  const p = opts.prefix ?? '';
  if (format === 'kohya') {
    const k = p + kohyaModuleName(module);
    return { a: `${k}.lora_down.weight`, b: `${k}.lora_up.weight`, alpha: `${k}.alpha` };
  }
  if (!isDottedModule(module)) throw new Error(`'${module}' is not a LoRA-capable linear of the Wan DiT`);
  const d = opts.withDefault === false ? '' : '.default';
  return { a: `${p}${module}.lora_A${d}.weight`, b: `${p}${module}.lora_B${d}.weight`, alpha: null };
}
