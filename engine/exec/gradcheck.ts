// Float64 finite-difference gradient checks. A test builds a float64 graph whose output is a scalar
// loss; gradcheck compiles the loss and its analytic gradient, then compares each gradient entry with a
// central difference of the loss (computed by the same ONNX session, in float64).
import { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/graph.js';
import { grad } from '../graph/autodiff.js';
import { CompiledGraph } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';

export interface GradCheckResult {
  maxRelError: number;
  maxAbsError: number;
  checked: number;
  worst: string;
}

export interface GradCheckOptions {
  /** FD step; 1e-6 suits float64. */
  eps?: number;
  /** Entries checked per tensor (all when smaller); a deterministic spread is chosen. */
  samplesPerTensor?: number;
  /** Serialize with every composite lowered to primitives (tests the lowering itself). */
  forceLowering?: boolean;
}

/** Deterministic values in [-1, 1] (or a custom range) so tests are reproducible. */
export function seededValues(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/**
 * `build` receives a float64 graph and returns the scalar loss plus the inputs to differentiate.
 * Every graph input must be fed by `feeds` (defaults: seeded values in [-1, 1]).
 */
export async function gradcheck(
  build: (g: Graph) => { loss: Tensor; wrt: Tensor[] },
  feeds: Feeds = {},
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const g = new Graph('gradcheck');
  const { loss, wrt } = build(g);
  const grads = grad(loss, wrt);
  const lossOut = g.alias(loss, 'loss');
  const gradOuts = grads.map((t, i) => g.alias(t, `grad_${i}`));
  const all: Feeds = { ...feeds };
  g.inputs.forEach((t, i) => {
    if (!all[t.name]) all[t.name] = seededValues(t.size, 1234 + 17 * i);
  });
  const compiled = await CompiledGraph.fromGraph(g, { outputs: [lossOut, ...gradOuts], forceLowering: opts.forceLowering, optimization: 'disabled' });
  const lossOnly = await CompiledGraph.fromGraph(g, { outputs: [lossOut], forceLowering: opts.forceLowering, optimization: 'disabled' });
  const base = await compiled.run(all);
  const eps = opts.eps ?? 1e-6;
  const samples = opts.samplesPerTensor ?? 24;
  let maxRel = 0;
  let maxAbs = 0;
  let checked = 0;
  let worst = '';
  for (let w = 0; w < wrt.length; w++) {
    const t = wrt[w]!;
    if (t.kind !== 'input') throw new Error(`gradcheck: ${t.name} must be a graph input to be perturbed`);
    const values = all[t.name] as Float64Array;
    const analytic = base[`grad_${w}`] as Float64Array;
    const n = values.length;
    const idx = n <= samples ? [...Array(n).keys()] : [...Array(samples).keys()].map((k) => Math.floor((k * n) / samples + ((k * 7919) % Math.max(1, Math.floor(n / samples)))));
    for (const i of idx) {
      const orig = values[i]!;
      values[i] = orig + eps;
      const up = ((await lossOnly.run(all)).loss as Float64Array)[0]!;
      values[i] = orig - eps;
      const down = ((await lossOnly.run(all)).loss as Float64Array)[0]!;
      values[i] = orig;
      const fd = (up - down) / (2 * eps);
      const an = analytic[i]!;
      const abs = Math.abs(fd - an);
      // Relative to the gradient's scale, with a floor so entries that are ~0 do not divide by ~0.
      const rel = abs / Math.max(Math.abs(fd), Math.abs(an), 1e-3);
      checked++;
      if (abs > maxAbs) maxAbs = abs;
      if (rel > maxRel) {
        maxRel = rel;
        worst = `${t.name}[${i}]: analytic ${an}, finite difference ${fd}`;
      }
    }
  }
  await compiled.release();
  await lossOnly.release();
  return { maxRelError: maxRel, maxAbsError: maxAbs, checked, worst };
}
