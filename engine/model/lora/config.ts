// LoRA configuration for the Wan DiT: rank, alpha, multiplier and which linears get an adapter
// (wan2.2-ti2v-5b.md §6).
//
// Targets follow PEFT's `target_modules` semantics so a DiffSynth training config carries over as is:
// a string matches a module whose full name equals it or ends with "." + it (suffix matching, so 'q'
// hits both self_attn.q and cross_attn.q of every block, and 'ffn.0' hits every blocks.i.ffn.0); a
// RegExp must match the WHOLE name (PEFT's re.fullmatch for a string target_modules).
//
// Module names are the DiT's official linear names as the LinearHook sees them (dit/weights.ts).
// patch_embedding is a Conv3d in the checkpoint: PEFT/kohya store conv adapters with conv-shaped
// tensors, which the file formats here do not handle, so it is never a LoRA target.
import { GraphBuildError } from '../../graph/errors.js';
import type { DitConfig } from '../config.js';
import { ditParams } from '../inventory/dit.js';

/** DiffSynth's Wan2.2 target_modules: self_attn and cross_attn q/k/v/o plus both FFN linears, every block. */
export const DEFAULT_LORA_TARGETS: readonly string[] = ['q', 'k', 'v', 'o', 'ffn.0', 'ffn.2'];

/** Linears that can never carry an adapter (see the header). */
const NOT_TARGETABLE = new Set(['patch_embedding']);

export interface LoraModuleSettings {
  rank: number;
  /** Scale is alpha/rank. */
  alpha: number;
}

export interface LoraConfig {
  /** Rank r of every adapter (unless `modules` overrides it). */
  rank: number;
  /** Defaults to the rank (scale 1), as DiffSynth and PEFT do. */
  alpha?: number;
  /** Which linears get an adapter (see the header); DEFAULT_LORA_TARGETS when omitted. */
  targets?: readonly (string | RegExp)[];
  /** Strength m at inference: the update is m·(alpha/r)·B·A. Default 1. */
  multiplier?: number;
  /**
   * Per-module rank/alpha, for adapters loaded from files (kohya files may differ per module). A
   * module listed here uses these settings instead of `rank`/`alpha`; it must still be a target.
   */
  modules?: ReadonlyMap<string, LoraModuleSettings>;
}

export interface LoraTarget extends LoraModuleSettings {
  /** Official module name, e.g. 'blocks.3.self_attn.q'. */
  name: string;
  inFeatures: number;
  outFeatures: number;
}

/** PEFT target matching for one name (see the header). */
export function matchesTarget(name: string, targets: readonly (string | RegExp)[]): boolean {
  return targets.some((t) => {
    if (typeof t === 'string') return name === t || name.endsWith(`.${t}`);
    const m = new RegExp(t.source, t.flags.replace(/[gy]/g, '')).exec(name);
    return m !== null && m.index === 0 && m[0] === name;
  });
}

function checkSettings(where: string, s: { rank: number; alpha?: number }): void {
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new GraphBuildError('LoRA', `${where}: rank must be a positive integer, got ${s.rank}`);
  if (s.alpha !== undefined && !Number.isFinite(s.alpha)) throw new GraphBuildError('LoRA', `${where}: alpha must be a finite number, got ${s.alpha}`);
}

/** Throws GraphBuildError naming the bad field; called by every entry point that takes a config. */
export function validateLoraConfig(cfg: LoraConfig): void {
  checkSettings('config', cfg);
  if (cfg.multiplier !== undefined && !Number.isFinite(cfg.multiplier)) throw new GraphBuildError('LoRA', `multiplier must be a finite number, got ${cfg.multiplier}`);
  if (cfg.targets && cfg.targets.length === 0) throw new GraphBuildError('LoRA', 'targets is empty: no linear would get an adapter');
  for (const [name, s] of cfg.modules ?? []) checkSettings(`module '${name}'`, s);
}

/** Whether the linear `name` gets an adapter under `cfg`. */
export function isLoraTarget(cfg: LoraConfig, name: string): boolean {
  return !NOT_TARGETABLE.has(name) && matchesTarget(name, cfg.targets ?? DEFAULT_LORA_TARGETS);
}

/** Rank and alpha of module `name` (its `modules` entry, else the config's). */
export function moduleSettings(cfg: LoraConfig, name: string): LoraModuleSettings {
  const m = cfg.modules?.get(name);
  return m ?? { rank: cfg.rank, alpha: cfg.alpha ?? cfg.rank };
}

/** The factor on (x Aᵀ) Bᵀ for module `name`: multiplier · alpha / rank. */
export function loraScale(cfg: LoraConfig, name: string): number {
  const { rank, alpha } = moduleSettings(cfg, name);
  return (cfg.multiplier ?? 1) * (alpha / rank);
}

/** Every 2-D linear of the DiT with its features (the LinearHook names, patch_embedding excluded). */
export function ditLinearModules(ditCfg: DitConfig): { name: string; inFeatures: number; outFeatures: number }[] {
  return ditParams(ditCfg)
    .filter((p) => p.shape.length === 2 && p.name.endsWith('.weight'))
    .map((p) => ({ name: p.name.slice(0, -'.weight'.length), outFeatures: p.shape[0]!, inFeatures: p.shape[1]! }));
}

/**
 * The modules `cfg` puts an adapter on in this DiT, in inventory order. Throws when no module matches
 * (a typo in the targets would otherwise silently train nothing) or when `modules` names one that is
 * not a target of this architecture.
 */
export function loraTargets(ditCfg: DitConfig, cfg: LoraConfig): LoraTarget[] {
  validateLoraConfig(cfg);
  const linears = ditLinearModules(ditCfg);
  const out = linears.filter((m) => isLoraTarget(cfg, m.name)).map((m) => ({ ...m, ...moduleSettings(cfg, m.name) }));
  if (out.length === 0) {
    throw new GraphBuildError('LoRA', `no linear of this DiT matches the targets [${(cfg.targets ?? DEFAULT_LORA_TARGETS).map(String).join(', ')}] (names look like 'blocks.0.self_attn.q', 'blocks.0.ffn.0')`);
  }
  const targeted = new Set(out.map((m) => m.name));
  for (const name of cfg.modules?.keys() ?? []) {
    if (!targeted.has(name)) throw new GraphBuildError('LoRA', `module '${name}' has LoRA settings but is not a LoRA target of this DiT (${ditCfg.layers} blocks)`);
  }
  return out;
}
