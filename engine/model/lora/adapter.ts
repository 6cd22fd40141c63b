// The canonical in-memory LoRA: module name -> {A [r, in], B [out, r], rank, alpha}, fp32 row-major.
// Every file format loads into this and saves from it; the graph reads it under the canonical tensor
// names `<module>.lora_A.weight` / `<module>.lora_B.weight` (PEFT names without ".default").
// The update it stands for is m·(alpha/rank)·B·A on the module's weight [out, in].
import { GraphBuildError } from '../../graph/errors.js';
import type { DitConfig } from '../config.js';
import type { WeightEntry } from '../weight-provider.js';
import type { LoraConfig, LoraModuleSettings } from './config.js';
import { ditLinearModules, loraTargets } from './config.js';

export interface LoraModule {
  /** lora_A / lora_down, [rank, inFeatures]. */
  a: Float32Array;
  /** lora_B / lora_up, [outFeatures, rank]. */
  b: Float32Array;
  rank: number;
  inFeatures: number;
  outFeatures: number;
  alpha: number;
}

export type LoraAdapter = Map<string, LoraModule>;

export const loraAName = (module: string): string => `${module}.lora_A.weight`;
export const loraBName = (module: string): string => `${module}.lora_B.weight`;

/** Throws when a module's arrays disagree with its declared sizes (a corrupt adapter). */
export function checkModule(name: string, m: LoraModule): void {
  if (!Number.isInteger(m.rank) || m.rank < 1) throw new GraphBuildError('LoRA', `'${name}': rank must be a positive integer, got ${m.rank}`);
  if (m.a.length !== m.rank * m.inFeatures) throw new GraphBuildError('LoRA', `'${name}': A has ${m.a.length} values, [${m.rank},${m.inFeatures}] needs ${m.rank * m.inFeatures}`);
  if (m.b.length !== m.outFeatures * m.rank) throw new GraphBuildError('LoRA', `'${name}': B has ${m.b.length} values, [${m.outFeatures},${m.rank}] needs ${m.outFeatures * m.rank}`);
  if (!Number.isFinite(m.alpha)) throw new GraphBuildError('LoRA', `'${name}': alpha must be finite, got ${m.alpha}`);
}

/**
 * Checks an adapter against a DiT: every module must be a 2-D linear of it with matching features.
 * Throws naming the first module that does not fit (e.g. a LoRA for a model with more blocks).
 */
export function checkAdapterFits(adapter: LoraAdapter, ditCfg: DitConfig): void {
  const linears = new Map(ditLinearModules(ditCfg).map((m) => [m.name, m]));
  for (const [name, m] of adapter) {
    checkModule(name, m);
    const l = linears.get(name);
    if (!l) throw new GraphBuildError('LoRA', `the adapter has module '${name}', which is not a linear of this DiT (${ditCfg.layers} blocks, dim ${ditCfg.dim})`);
    if (l.inFeatures !== m.inFeatures || l.outFeatures !== m.outFeatures) {
      throw new GraphBuildError('LoRA', `'${name}': the adapter is for a [${m.outFeatures},${m.inFeatures}] weight, this DiT's is [${l.outFeatures},${l.inFeatures}] (LoRA for another model size?)`);
    }
  }
}

/**
 * The graph config that applies `adapter` exactly: its modules as targets (full names, which PEFT
 * suffix matching maps to themselves) with their own rank and alpha.
 */
export function loraConfigFromAdapter(adapter: LoraAdapter, multiplier = 1): LoraConfig {
  if (adapter.size === 0) throw new GraphBuildError('LoRA', 'the adapter has no modules');
  const modules = new Map<string, LoraModuleSettings>();
  for (const [name, m] of adapter) {
    checkModule(name, m);
    modules.set(name, { rank: m.rank, alpha: m.alpha });
  }
  const first = adapter.values().next().value as LoraModule;
  return { rank: first.rank, alpha: first.alpha, targets: [...adapter.keys()], multiplier, modules };
}

/** A and B as float32 inline weight entries under canonical names (for a MapWeightProvider). */
export function adapterEntries(adapter: LoraAdapter): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  for (const [name, m] of adapter) {
    checkModule(name, m);
    out.set(loraAName(name), { dtype: 'float32', shape: [m.rank, m.inFeatures], data: { kind: 'inline', data: m.a } });
    out.set(loraBName(name), { dtype: 'float32', shape: [m.outFeatures, m.rank], data: { kind: 'inline', data: m.b } });
  }
  return out;
}

/**
 * Collects an adapter from canonical-name values (e.g. trained parameters read back from a session)
 * for every target of `cfg` in this DiT. Throws naming a missing or wrongly sized tensor.
 */
export function adapterFromValues(ditCfg: DitConfig, cfg: LoraConfig, get: (name: string) => Float32Array | undefined): LoraAdapter {
  const adapter: LoraAdapter = new Map();
  for (const t of loraTargets(ditCfg, cfg)) {
    const a = get(loraAName(t.name));
    const b = get(loraBName(t.name));
    if (!a || !b) throw new GraphBuildError('LoRA', `no values for '${!a ? loraAName(t.name) : loraBName(t.name)}'`);
    const m: LoraModule = { a, b, rank: t.rank, inFeatures: t.inFeatures, outFeatures: t.outFeatures, alpha: t.alpha };
    checkModule(t.name, m);
    adapter.set(t.name, m);
  }
  return adapter;
}
