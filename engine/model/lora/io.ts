// Saving and loading LoRA safetensors files in the DiffSynth/PEFT and kohya/musubi formats
// (formats.ts has the key grammar). Loading detects the format from the keys, strips ComfyUI prefixes,
// resolves each module's alpha (kohya `.alpha`, DiffSynth's optional alpha, else the rank: scale 1) into
// the canonical in-memory adapter, and reports every key it could not place by name.
import type { LoraAdapter, LoraModule } from './adapter.js';
import { checkAdapterFits, checkModule } from './adapter.js';
import type { DitConfig } from '../config.js';
import { f32ToBf16, f32ToF16 } from '../../graph/half.js';
import type { SafetensorsEntry } from '../weights/safetensors.js';
import { SafetensorsFile, writeSafetensors } from '../weights/safetensors.js';
import type { KeyNameOptions, LoraFormat, ParsedLoraKey } from './formats.js';
import { isDottedModule, loraKeyNames, parseLoraKey } from './formats.js';
import { ditLinearModules } from './config.js';

export class LoraFileError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'LoraFileError';
  }
}

export type LoraSaveDtype = 'F32' | 'F16' | 'BF16';

export interface SaveLoraOptions extends KeyNameOptions {
  format: LoraFormat;
  /** Storage dtype of A and B (alpha is always F32). Default F32 (exact round trip). */
  dtype?: LoraSaveDtype;
  metadata?: Record<string, string>;
}

function encode(data: Float32Array, dtype: LoraSaveDtype): ArrayBufferView {
  if (dtype === 'F32') return data;
  return dtype === 'F16' ? f32ToF16(data).data : f32ToBf16(data);
}

/**
 * Writes `adapter` in `opts.format`. DiffSynth files have no alpha, so a module whose alpha differs from
 * its rank is saved with B·(alpha/r) (the product the file then means is the same). Kohya files store
 * alpha as an F32 scalar per module, as musubi-tuner does.
 */
export async function saveLora(file: string, adapter: LoraAdapter, opts: SaveLoraOptions): Promise<{ bytes: number; keys: string[] }> {
  const dtype = opts.dtype ?? 'F32';
  const entries: SafetensorsEntry[] = [];
  for (const [name, m] of adapter) {
    checkModule(name, m);
    const keys = loraKeyNames(name, opts.format, opts);
    const s = m.alpha / m.rank;
    const b = keys.alpha === null && s !== 1 ? Float32Array.from(m.b, (v) => v * s) : m.b;
    entries.push({ name: keys.a, dtype, shape: [m.rank, m.inFeatures], data: () => encode(m.a, dtype) });
    entries.push({ name: keys.b, dtype, shape: [m.outFeatures, m.rank], data: () => encode(b, dtype) });
    if (keys.alpha !== null) entries.push({ name: keys.alpha, dtype: 'F32', shape: [], data: Float32Array.of(m.alpha) });
  }
  const metadata: Record<string, string> = { format: 'pt', ...(opts.metadata ?? {}) };
  if (opts.format === 'kohya') {
    // What musubi-tuner records; tools that list LoRAs read these.
    const first = adapter.values().next().value as LoraModule | undefined;
    metadata.ss_network_module ??= 'networks.lora_wan';
    if (first) {
      metadata.ss_network_dim ??= String(first.rank);
      metadata.ss_network_alpha ??= String(first.alpha);
    }
  }
  const r = await writeSafetensors(file, entries, { metadata });
  return { bytes: r.bytes, keys: entries.map((e) => e.name) };
}

export interface LoadLoraOptions {
  /** Throw (listing them) when the file has keys that are not LoRA tensors of a DiT linear. Default false. */
  strict?: boolean;
  /**
   * Check the adapter against this DiT: modules it does not have are reported as unknown keys (or
   * thrown with `strict`), wrong feature sizes throw.
   */
  dit?: DitConfig;
}

export interface LoadedLora {
  adapter: LoraAdapter;
  format: LoraFormat;
  /** ComfyUI prefixes seen on the keys ([] when none). */
  prefixes: string[];
  /** Keys that are not A/B/alpha tensors of a (this) DiT's linear, sorted; they were not loaded. */
  unknown: string[];
  metadata: Readonly<Record<string, string>>;
}

interface Group {
  a?: ParsedLoraKey;
  b?: ParsedLoraKey;
  alpha?: ParsedLoraKey;
}

/** Groups parsed keys by module and settles the format; throws for mixed formats or duplicates. */
function groupKeys(file: string, keys: readonly string[]): { groups: Map<string, Group>; format: LoraFormat; prefixes: string[]; unknown: string[] } {
  const groups = new Map<string, Group>();
  const unknown: string[] = [];
  const examples: Partial<Record<LoraFormat, string>> = {};
  const prefixes = new Set<string>();
  for (const key of keys) {
    const p = parseLoraKey(key);
    if (!p) {
      unknown.push(key);
      continue;
    }
    if (p.style) examples[p.style] ??= key;
    prefixes.add(p.prefix);
    const g = groups.get(p.module) ?? {};
    const slot = p.part === 'A' ? 'a' : p.part === 'B' ? 'b' : 'alpha';
    const prev = g[slot];
    if (prev) throw new LoraFileError(file, `keys '${prev.key}' and '${key}' are the same tensor of module '${p.module}'`);
    g[slot] = p;
    groups.set(p.module, g);
  }
  if (examples.diffsynth !== undefined && examples.kohya !== undefined) {
    throw new LoraFileError(file, `the file mixes DiffSynth/PEFT keys (e.g. '${examples.diffsynth}') and kohya keys (e.g. '${examples.kohya}'); it is not one LoRA`);
  }
  if (examples.diffsynth === undefined && examples.kohya === undefined) {
    const shown = keys.slice(0, 3).map((k) => `'${k}'`).join(', ');
    throw new LoraFileError(file, `no Wan DiT LoRA tensors found (expected keys like 'blocks.0.self_attn.q.lora_A.default.weight' or 'lora_unet_blocks_0_self_attn_q.lora_down.weight'; the file has ${keys.length} keys${shown ? `, e.g. ${shown}` : ''})`);
  }
  const format: LoraFormat = examples.kohya !== undefined ? 'kohya' : 'diffsynth';
  prefixes.delete('');
  return { groups, format, prefixes: [...prefixes].sort(), unknown };
}

async function scalarOf(st: SafetensorsFile, key: string): Promise<number> {
  const info = st.info(key);
  if (info.numel !== 1) throw new LoraFileError(st.path, `'${key}' must be a scalar, it has shape [${info.shape.join(',')}]`);
  return (await st.readF32(key))[0]!;
}

/** Reads a LoRA file into the canonical adapter. */
export async function loadLora(file: string, opts: LoadLoraOptions = {}): Promise<LoadedLora> {
  const st = await SafetensorsFile.open(file);
  try {
    const { groups, format, prefixes, unknown } = groupKeys(file, st.names());
    const adapter: LoraAdapter = new Map();
    for (const [module, g] of groups) {
      if (!g.a || !g.b) {
        const have = (g.a ?? g.b ?? g.alpha)!.key;
        throw new LoraFileError(file, `'${have}' has no matching ${g.a ? 'B (lora_B / lora_up)' : 'A (lora_A / lora_down)'} tensor for module '${module}'`);
      }
      const ai = st.info(g.a.key);
      const bi = st.info(g.b.key);
      if (ai.shape.length !== 2 || bi.shape.length !== 2) {
        throw new LoraFileError(file, `'${module}': A [${ai.shape.join(',')}] and B [${bi.shape.join(',')}] must be matrices (conv-shaped adapters are not supported on the DiT's linears)`);
      }
      const [rank, inFeatures] = ai.shape as [number, number];
      const [outFeatures, rankB] = bi.shape as [number, number];
      if (rank !== rankB || rank < 1) {
        throw new LoraFileError(file, `'${module}': A is [${ai.shape.join(',')}] and B is [${bi.shape.join(',')}]; they must be [r, in] and [out, r] with the same r >= 1`);
      }
      const alpha = g.alpha ? await scalarOf(st, g.alpha.key) : rank;
      if (!Number.isFinite(alpha)) throw new LoraFileError(file, `'${g.alpha!.key}' is not a finite number (${alpha})`);
      // readF32 may return a view on a shared buffer for F32 data; copy so the adapter owns its arrays.
      const a = Float32Array.from(await st.readF32(g.a.key));
      const b = Float32Array.from(await st.readF32(g.b.key));
      adapter.set(module, { a, b, rank, inFeatures, outFeatures, alpha });
    }
    if (opts.dit) {
      const known = new Set(ditLinearModules(opts.dit).map((m) => m.name).filter((n) => isDottedModule(n)));
      for (const [module, g] of [...groups]) {
        if (known.has(module)) continue;
        adapter.delete(module);
        for (const p of [g.a, g.b, g.alpha]) if (p) unknown.push(p.key);
      }
      checkAdapterFits(adapter, opts.dit);
    }
    unknown.sort();
    if (opts.strict && unknown.length > 0) {
      throw new LoraFileError(file, `${unknown.length} key(s) are not LoRA tensors of ${opts.dit ? 'this' : 'a'} Wan DiT linear: ${unknown.map((k) => `'${k}'`).join(', ')}`);
    }
    if (adapter.size === 0) throw new LoraFileError(file, 'no LoRA module of this DiT in the file');
    return { adapter, format, prefixes, unknown, metadata: st.metadata };
  } finally {
    await st.close();
  }
}
