// Key maps for Wan DiT checkpoints. The engine's canonical names are the original Wan names (the
// state-dict names W22 `WanModel` uses; reference/wan2.2-ti2v-5b.md §1.6). A user's download may use:
//   - the original names (Wan-AI/Wan2.2-TI2V-5B shards),
//   - Diffusers names (Wan-AI/Wan2.2-TI2V-5B-Diffusers; table from diffusers' convert_wan_to_diffusers.py
//     and DiffSynth's state-dict converter),
//   - either of those behind a ComfyUI prefix (`model.diffusion_model.` or `diffusion_model.`).
// `mapWanDitKeys` detects which, and returns canonical -> source key so the loader reads each weight
// from wherever the file keeps it, plus the keys it could not place and the expected ones not found.
//
// The one trap: Diffusers renumbers the block norms. Original: norm1 (no affine), norm3 (the affine
// cross-attention LayerNorm), norm2 (no affine). Diffusers: norm1, norm2 (= original norm3), norm3.
// Only the affine one has parameters, so Diffusers `norm2.*` maps to original `norm3.*`.

export type WanKeyLayout = 'original' | 'diffusers';

/** ComfyUI wrappers, longest first so `model.diffusion_model.` is not mistaken for something else. */
export const COMFY_PREFIXES: readonly string[] = ['model.diffusion_model.', 'diffusion_model.'];

export class KeyMapError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'KeyMapError';
  }
}

// Module renames, Diffusers -> original. Matched on whole dotted segments at the start of the key
// (top level) or after `blocks.<i>.` (per block). The remainder (`.weight`, `.bias`) is kept.
const TOP_LEVEL: readonly (readonly [string, string])[] = [
  ['condition_embedder.time_embedder.linear_1', 'time_embedding.0'],
  ['condition_embedder.time_embedder.linear_2', 'time_embedding.2'],
  ['condition_embedder.text_embedder.linear_1', 'text_embedding.0'],
  ['condition_embedder.text_embedder.linear_2', 'text_embedding.2'],
  ['condition_embedder.time_proj', 'time_projection.1'],
  // Image embedder of the Wan2.1 I2V/FLF2V models (absent in TI2V-5B; mapped for completeness).
  ['condition_embedder.image_embedder.norm1', 'img_emb.proj.0'],
  ['condition_embedder.image_embedder.ff.net.0.proj', 'img_emb.proj.1'],
  ['condition_embedder.image_embedder.ff.net.2', 'img_emb.proj.3'],
  ['condition_embedder.image_embedder.norm2', 'img_emb.proj.4'],
  ['condition_embedder.image_embedder.pos_embed', 'img_emb.emb_pos'],
  ['scale_shift_table', 'head.modulation'],
  ['proj_out', 'head.head'],
  ['patch_embedding', 'patch_embedding'],
];

const PER_BLOCK: readonly (readonly [string, string])[] = [
  ['attn1.to_q', 'self_attn.q'],
  ['attn1.to_k', 'self_attn.k'],
  ['attn1.to_v', 'self_attn.v'],
  ['attn1.to_out.0', 'self_attn.o'],
  ['attn1.norm_q', 'self_attn.norm_q'],
  ['attn1.norm_k', 'self_attn.norm_k'],
  ['attn2.to_q', 'cross_attn.q'],
  ['attn2.to_k', 'cross_attn.k'],
  ['attn2.to_v', 'cross_attn.v'],
  ['attn2.to_out.0', 'cross_attn.o'],
  ['attn2.norm_q', 'cross_attn.norm_q'],
  ['attn2.norm_k', 'cross_attn.norm_k'],
  ['attn2.add_k_proj', 'cross_attn.k_img'],
  ['attn2.add_v_proj', 'cross_attn.v_img'],
  ['attn2.norm_added_k', 'cross_attn.norm_k_img'],
  ['norm2', 'norm3'],
  ['ffn.net.0.proj', 'ffn.0'],
  ['ffn.net.2', 'ffn.2'],
  ['scale_shift_table', 'modulation'],
];

// Module paths that only one layout uses, for detection. `patch_embedding` and `blocks.<i>` are shared.
const ORIGINAL_TOP = ['time_embedding', 'text_embedding', 'time_projection', 'head', 'img_emb'];
const ORIGINAL_BLOCK = ['self_attn', 'cross_attn', 'modulation', 'norm3', 'ffn.0', 'ffn.2'];
const DIFFUSERS_TOP = ['condition_embedder', 'scale_shift_table', 'proj_out'];
const DIFFUSERS_BLOCK = ['attn1', 'attn2', 'scale_shift_table', 'ffn.net', 'norm2'];

const BLOCK_RE = /^blocks\.(\d+)\.(.+)$/;

/** `key` equals `module` or continues it with a dot. */
function under(key: string, module: string): boolean {
  return key === module || (key.startsWith(module) && key[module.length] === '.');
}

function renameBy(key: string, table: readonly (readonly [string, string])[]): string | null {
  for (const [from, to] of table) if (under(key, from)) return to + key.slice(from.length);
  return null;
}

/** A Diffusers key (prefix already stripped) -> its original name, or null when no rule applies. */
export function diffusersToOriginal(key: string): string | null {
  const m = BLOCK_RE.exec(key);
  if (m) {
    const rest = renameBy(m[2]!, PER_BLOCK);
    return rest === null ? null : `blocks.${m[1]}.${rest}`;
  }
  return renameBy(key, TOP_LEVEL);
}

/** Which layout a single (unprefixed) key belongs to, or null when it could be either or neither. */
export function layoutOfKey(key: string): WanKeyLayout | null {
  const m = BLOCK_RE.exec(key);
  const [top, block] = m ? [[], [m[2]!]] : [[key], []];
  const hit = (keys: string[], mods: string[]): boolean => keys.some((k) => mods.some((mod) => under(k, mod)));
  if (hit(top, DIFFUSERS_TOP) || hit(block, DIFFUSERS_BLOCK)) return 'diffusers';
  if (hit(top, ORIGINAL_TOP) || hit(block, ORIGINAL_BLOCK)) return 'original';
  return null;
}

/** The ComfyUI prefix most keys carry, or '' when none does. */
export function detectPrefix(keys: readonly string[]): string {
  let best = '';
  let bestCount = 0;
  for (const p of COMFY_PREFIXES) {
    const n = keys.filter((k) => k.startsWith(p)).length;
    if (n > bestCount) {
      best = p;
      bestCount = n;
    }
  }
  return best;
}

export interface WanKeyMapping {
  layout: WanKeyLayout;
  /** The ComfyUI prefix stripped from every key ('' when none). */
  prefix: string;
  /** Canonical (original Wan) name -> key as it appears in the source. */
  mapping: Map<string, string>;
  /** Source keys that do not map to an expected name (or, without `expected`, to any known name). */
  unknown: string[];
  /** Expected canonical names that no source key provides (empty without `expected`). */
  missing: string[];
}

/**
 * Detects the naming of a Wan DiT checkpoint from its keys and maps it onto canonical names.
 * `expected` is the list of canonical names the model config needs; when given, source keys outside it
 * are reported as unknown and expected names not found as missing. Throws KeyMapError when the keys mix
 * original and Diffusers names (the norm2/norm3 swap makes such a file ambiguous) or when two source
 * keys map to the same canonical name.
 */
export function mapWanDitKeys(keys: Iterable<string>, expected?: Iterable<string>): WanKeyMapping {
  const all = [...keys];
  const prefix = detectPrefix(all);
  const unknown: string[] = [];
  const candidates: { source: string; bare: string }[] = [];
  for (const k of all) {
    if (prefix !== '' && !k.startsWith(prefix)) unknown.push(k);
    else candidates.push({ source: k, bare: k.slice(prefix.length) });
  }

  let diffusersExample: string | undefined;
  let originalExample: string | undefined;
  for (const { source, bare } of candidates) {
    const l = layoutOfKey(bare);
    if (l === 'diffusers') diffusersExample ??= source;
    else if (l === 'original') originalExample ??= source;
  }
  if (diffusersExample !== undefined && originalExample !== undefined) {
    throw new KeyMapError(
      `the checkpoint mixes original Wan names (e.g. '${originalExample}') and Diffusers names (e.g. '${diffusersExample}'); ` +
        `convert it to one naming first`,
    );
  }
  const layout: WanKeyLayout = diffusersExample !== undefined ? 'diffusers' : 'original';

  const want = expected ? new Set(expected) : null;
  const mapping = new Map<string, string>();
  for (const { source, bare } of candidates) {
    let canonical: string | null;
    if (layout === 'diffusers') canonical = diffusersToOriginal(bare);
    else canonical = layoutOfKey(bare) === 'original' || under(bare, 'patch_embedding') ? bare : null;
    if (canonical === null || (want && !want.has(canonical))) {
      unknown.push(source);
      continue;
    }
    const prev = mapping.get(canonical);
    if (prev !== undefined) throw new KeyMapError(`keys '${prev}' and '${source}' both map to '${canonical}'`);
    mapping.set(canonical, source);
  }
  const missing = want ? [...want].filter((k) => !mapping.has(k)) : [];
  return { layout, prefix, mapping, unknown, missing };
}

/**
 * The canonical parameter names of a Wan2.2 TI2V DiT with `numLayers` blocks (§1.6 / Appendix A:
 * 15 + 27 per block, 825 for the 30-layer 5B model). The model config can use this as `expected`.
 */
export function wanDitKeyNames(numLayers: number): string[] {
  const names: string[] = [];
  const wb = (m: string): void => {
    names.push(`${m}.weight`, `${m}.bias`);
  };
  wb('patch_embedding');
  wb('text_embedding.0');
  wb('text_embedding.2');
  wb('time_embedding.0');
  wb('time_embedding.2');
  wb('time_projection.1');
  for (let i = 0; i < numLayers; i++) {
    const b = `blocks.${i}`;
    names.push(`${b}.modulation`);
    for (const attn of ['self_attn', 'cross_attn']) {
      for (const p of ['q', 'k', 'v', 'o']) wb(`${b}.${attn}.${p}`);
      names.push(`${b}.${attn}.norm_q.weight`, `${b}.${attn}.norm_k.weight`);
      if (attn === 'self_attn') wb(`${b}.norm3`);
    }
    wb(`${b}.ffn.0`);
    wb(`${b}.ffn.2`);
  }
  names.push('head.modulation');
  wb('head.head');
  return names;
}
