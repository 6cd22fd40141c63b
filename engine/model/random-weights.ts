// Seeded random weights for an inventory: tiny models in tests, and the starting point of new
// modules. Deterministic (xorshift + Box-Muller) so a seed gives the same weights everywhere.
import type { ParamSpec } from './inventory/types.js';
import type { WeightEntry } from './weight-provider.js';

export function seededNormal(n: number, seed: number, std: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(th) * std;
  }
  return out;
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Random weights: fan-in scaled normals for matrices and convs, ones for norm scales (`*.norm*.weight`,
 * `gamma`), small normals for biases and modulation tables. Each tensor's values depend only on the
 * seed and its name, so adding a parameter does not change the others.
 */
export function randomWeights(specs: readonly ParamSpec[], seed: number, scale = 1): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  for (const p of specs) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const isNormScale = /(^|\.)norm[^.]*\.weight$|gamma$/.test(p.name);
    let data: Float32Array;
    if (isNormScale) data = Float32Array.from(seededNormal(n, seed ^ hashName(p.name), 0.1), (v) => 1 + v);
    else if (p.shape.length >= 2 && !p.name.endsWith('modulation')) {
      const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
      data = seededNormal(n, seed ^ hashName(p.name), scale / Math.sqrt(fanIn));
    } else data = seededNormal(n, seed ^ hashName(p.name), 0.1 * scale);
    out.set(p.name, { dtype: 'float32', shape: p.shape, data: { kind: 'inline', data } });
  }
  return out;
}
