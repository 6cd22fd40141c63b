// What a training run updates, as one flat vector (graph/params.ts): LoRA adapters on the DiT's
// linears, the ReFree speech modules (encoder, level selectors, FiLM, null speech), and, for small
// models, named DiT parameter groups trained in full. Everything else is frozen and comes from the base
// package's files as initializers.
//
// The layout's order is fixed by the model config and the settings (not by graph-building order), so
// a checkpoint's vector is meaningful without a graph, and `layoutHash` tells a checkpoint of another
// model or other settings apart before anything is loaded.
import { createHash } from 'node:crypto';
import type { Graph, Tensor } from '../graph/graph.js';
import type { ParamSource } from '../graph/params.js';
import { FlatParams, ParamLayout, fillInit, linearInit } from '../graph/params.js';
import type { DitConfig } from '../model/config.js';
import { ditParams } from '../model/inventory/dit.js';
import type { ParamSpec } from '../model/inventory/types.js';
import type { LoraConfig } from '../model/lora/config.js';
import { loraParams } from '../model/lora/hook.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { refreeInitWeights, refreeParams } from '../model/refree/params.js';
import type { WeightProvider } from '../model/weight-provider.js';
import { SafetensorsFile } from '../model/weights/safetensors.js';

export interface TrainableSettings {
  /** LoRA on the DiT linears (null: none). Targets are PEFT-style suffixes ('q', 'ffn.0', …). */
  lora: { rank: number; alpha: number; targets: string[] } | null;
  /**
   * DiT parameters trained in full, as name prefixes ('head.', 'blocks.3.', …) or 'all'. Meant for
   * small models: every listed tensor costs params + gradient + two Adam moments in memory.
   */
  ditGroups: string[];
}

export type ParamKind = 'lora' | 'refree' | 'dit';

export interface TrainableSet {
  layout: ParamLayout;
  kind: ReadonlyMap<string, ParamKind>;
  lora: LoraConfig | null;
  /** SHA-256 over names and shapes in order. */
  layoutHash: string;
}

export class TrainSettingsError extends Error {
  override name = 'TrainSettingsError';
}

export function loraConfigOf(s: TrainableSettings): LoraConfig | null {
  return s.lora ? { rank: s.lora.rank, alpha: s.lora.alpha, targets: s.lora.targets } : null;
}

function inGroups(name: string, groups: readonly string[]): boolean {
  return groups.some((g) => g === 'all' || name.startsWith(g));
}

export function trainableSet(dit: DitConfig, refree: ReFreeConfig, s: TrainableSettings): TrainableSet {
  const lora = loraConfigOf(s);
  const specs: [ParamSpec, ParamKind][] = [];
  const groupSpecs = ditParams(dit).filter((p) => inGroups(p.name, s.ditGroups));
  if (s.ditGroups.length > 0 && groupSpecs.length === 0) throw new TrainSettingsError(`no DiT parameter matches the groups ${s.ditGroups.join(', ')} (use name prefixes such as "head." or "blocks.0.", or "all")`);
  if (lora) {
    // A linear trained in full needs no adapter on top.
    const full = new Set(groupSpecs.map((p) => p.name.replace(/\.weight$/, '')));
    const ls = loraParams(dit, lora).filter((p) => !full.has(p.name.replace(/\.lora_[AB]\.weight$/, '')));
    if (ls.length === 0 && groupSpecs.length === 0) throw new TrainSettingsError(`the LoRA targets ${s.lora!.targets.join(', ')} match no linear of this DiT`);
    ls.forEach((p) => specs.push([p, 'lora']));
  }
  refreeParams(refree).forEach((p) => specs.push([p, 'refree']));
  groupSpecs.forEach((p) => specs.push([p, 'dit']));
  const layout = new ParamLayout();
  const kind = new Map<string, ParamKind>();
  const h = createHash('sha256');
  for (const [p, k] of specs) {
    layout.add(p.name, p.shape);
    kind.set(p.name, k);
    h.update(`${p.name}:${p.shape.join('x')};`);
  }
  return { layout, kind, lora, layoutHash: h.digest('hex') };
}

/** Reads named float32 tensors from safetensors files (the first file that has each name wins). */
async function readNamed(files: readonly string[], names: readonly string[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const f of files) {
    if (!f.endsWith('.safetensors')) continue;
    const st = await SafetensorsFile.open(f);
    try {
      for (const n of names) if (!out.has(n) && st.has(n)) out.set(n, await st.readF32(n));
    } finally {
      await st.close();
    }
  }
  return out;
}

export interface InitialValueSources {
  /** The base package's DiT weight files (original names) for DiT groups. */
  ditFiles: readonly string[];
  /** The base package's ReFree adapter files; empty when the base has none (fresh init). */
  refreeFiles: readonly string[];
  /** Seed of LoRA A and of a fresh ReFree adapter. */
  seed: number;
}

/**
 * The starting vector: LoRA A Kaiming-uniform and B zero (PEFT; the run starts exactly at the base
 * model), the ReFree modules and DiT groups from the base package's files (a base without a ReFree
 * adapter gets a fresh one: refreeInitWeights, identity at init).
 */
export async function initialValues(set: TrainableSet, refree: ReFreeConfig, src: InitialValueSources): Promise<Float32Array> {
  const out = new Float32Array(set.layout.size);
  const names = (k: ParamKind): string[] => set.layout.entries.filter((e) => set.kind.get(e.name) === k).map((e) => e.name);
  const refreeNames = names('refree');
  const fromFiles = await readNamed(src.refreeFiles, refreeNames);
  const fresh = fromFiles.size === 0 ? refreeInitWeights(refree, src.seed) : null;
  const ditValues = await readNamed(src.ditFiles, names('dit'));
  for (const e of set.layout.entries) {
    const view = out.subarray(e.offset, e.offset + e.size);
    const k = set.kind.get(e.name)!;
    if (k === 'lora') {
      if (e.name.endsWith('.lora_A.weight')) fillInit(view, linearInit(e.shape[1]!), src.seed, e.name);
      continue; // B stays 0
    }
    const v = k === 'dit' ? ditValues.get(e.name) : fresh ? (fresh.get(e.name)!.data as { data: Float32Array }).data : fromFiles.get(e.name);
    if (!v) {
      throw new TrainSettingsError(k === 'refree' ? `the base package's speech adapter has no "${e.name}": it was made for another configuration` : `the base package's DiT has no "${e.name}" in its safetensors files`);
    }
    if (v.length !== e.size) throw new TrainSettingsError(`"${e.name}" in the base package has ${v.length} values, the model needs ${e.size}`);
    view.set(v);
  }
  return out;
}

/**
 * A WeightProvider over a graph's flat trainable input: trainable names are slices of it, every other
 * name comes from the frozen provider (the base package's weights).
 */
export class TrainableProvider implements WeightProvider {
  private readonly flat: FlatParams;
  constructor(
    g: Graph,
    set: TrainableSet,
    private readonly frozen: WeightProvider,
    opts: { name?: string; flat?: Tensor } = {},
  ) {
    this.flat = FlatParams.bind(g, set.layout, { name: opts.name ?? 'params', flat: opts.flat });
    this.layout = set.layout;
  }
  private readonly layout: ParamLayout;
  get source(): ParamSource & { gradient(loss: Tensor): Tensor; flat: Tensor } {
    return this.flat;
  }
  get(g: Graph, name: string, shape: readonly number[]): Tensor {
    if (this.layout.has(name)) return this.flat.param(name, shape);
    return this.frozen.get(g, name, shape);
  }
}
