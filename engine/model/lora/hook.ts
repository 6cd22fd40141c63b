// LoRA on the DiT graph: a LinearHook that adds m·(alpha/r)·(x Aᵀ) Bᵀ to the targeted linears.
//
// A [r, in] and B [out, r] come from a WeightProvider under `<module>.lora_A.weight` /
// `<module>.lora_B.weight`: an InputWeightProvider makes them graph inputs (training: autodiff reaches
// them, the base weights from the DiT's own provider stay frozen initializers), a MapWeightProvider
// over adapterEntries() makes them initializers (inference without merging, strength fixed at build).
// The scale is applied to the rank-r intermediate (Gemm alpha), the cheapest place, as in nn/lora.ts.
import type { Tensor } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { linear2d } from '../../graph/nn/lora.js';
import { linearInit, zerosInit, fillInit } from '../../graph/params.js';
import { add } from '../../graph/ops/elementwise.js';
import { reshape } from '../../graph/ops/shape.js';
import type { DitConfig } from '../config.js';
import type { LinearHook } from '../dit/weights.js';
import type { ParamSpec } from '../inventory/types.js';
import type { WeightEntry, WeightProvider } from '../weight-provider.js';
import type { LoraConfig } from './config.js';
import { isLoraTarget, loraScale, loraTargets, moduleSettings, validateLoraConfig } from './config.js';
import type { LoraAdapter } from './adapter.js';
import { adapterEntries, loraAName, loraBName } from './adapter.js';

/**
 * The DiT LinearHook for `cfg`. Untargeted linears are left as base(x). A DiT built with it asks
 * `provider` for exactly the tensors loraParams(ditCfg, cfg) lists.
 */
export function loraHook(cfg: LoraConfig, provider: WeightProvider): LinearHook {
  validateLoraConfig(cfg);
  return (name: string, x: Tensor, base: (x: Tensor) => Tensor): Tensor => {
    const y = base(x);
    if (!isLoraTarget(cfg, name)) return y;
    const inF = x.shape[x.rank - 1]!;
    const outF = y.shape[y.rank - 1]!;
    const { rank } = moduleSettings(cfg, name);
    const a = provider.get(x.graph, loraAName(name), [rank, inF]);
    const b = provider.get(x.graph, loraBName(name), [outF, rank]);
    if (a.rank !== 2 || b.rank !== 2) throw new ShapeError('LoRA', [x.shape, a.shape, b.shape], `${name}: A and B must be matrices`);
    const rows = x.rank === 2 ? x : reshape(x, [-1, inF]);
    const delta = linear2d(linear2d(rows, a, null, loraScale(cfg, name)), b, null);
    return add(y, x.rank === 2 ? delta : reshape(delta, [...x.shape.slice(0, -1), outF]));
  };
}

/** The adapter tensors a DiT with `cfg` uses, by canonical name, A then B per module, inventory order. */
export function loraParams(ditCfg: DitConfig, cfg: LoraConfig): ParamSpec[] {
  return loraTargets(ditCfg, cfg).flatMap((t) => [
    { name: loraAName(t.name), shape: [t.rank, t.inFeatures] },
    { name: loraBName(t.name), shape: [t.outFeatures, t.rank] },
  ]);
}

export interface LoraInitOptions {
  /**
   * 'zero' (default, PEFT's init): B = 0, so training starts exactly at the base model. 'random' gives
   * B random values as well (tests, and exercising an adapter's effect).
   */
  b?: 'zero' | 'random';
  /** Std of random B values (default 0.02). */
  bStd?: number;
}

/**
 * A fresh adapter for every target of `cfg`: A Kaiming-uniform in ±1/√in like PEFT, deterministic from
 * (seed, module name), and B per `opts`.
 */
export function initLoraAdapter(ditCfg: DitConfig, cfg: LoraConfig, seed: number, opts: LoraInitOptions = {}): LoraAdapter {
  const adapter: LoraAdapter = new Map();
  for (const t of loraTargets(ditCfg, cfg)) {
    const a = new Float32Array(t.rank * t.inFeatures);
    fillInit(a, linearInit(t.inFeatures), seed, loraAName(t.name));
    const b = new Float32Array(t.outFeatures * t.rank);
    fillInit(b, opts.b === 'random' ? { kind: 'normal', std: opts.bStd ?? 0.02 } : zerosInit, seed, loraBName(t.name));
    adapter.set(t.name, { a, b, rank: t.rank, inFeatures: t.inFeatures, outFeatures: t.outFeatures, alpha: t.alpha });
  }
  return adapter;
}

/** Same as initLoraAdapter, as float32 weight entries under canonical names (training start values). */
export function initLoraWeights(ditCfg: DitConfig, cfg: LoraConfig, seed: number, opts: LoraInitOptions = {}): Map<string, WeightEntry> {
  return adapterEntries(initLoraAdapter(ditCfg, cfg, seed, opts));
}
