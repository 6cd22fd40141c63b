// UniPC multistep solver for flow matching, as Wan's FlowUniPCMultistepScheduler (a port of diffusers'
// UniPCMultistepScheduler, wan2.2-ti2v-5b.md §4): predict_x0, solver_type bh2 (bh1 optional), order 2
// by default, lower_order_final, corrector UniC from step 1 on.
//
// Notation (flow matching, x_σ = α·x0 + σ·ε with α = 1 − σ):
//   λ(σ) = ln α − ln σ                      (log signal-to-noise ratio; λ(0) = +∞)
//   m_i  = x_i − σ_i·v_i                    (model output converted to an x0 prediction)
// Step i (σ_s0 = σ_i → σ_t = σ_{i+1}), h = λ_t − λ_s0, hh = −h:
//   h_φ1 = expm1(hh), B_h = expm1(hh) (bh2) or hh (bh1)
//   D1_k = (m_{i−k} − m_i)/r_k with r_k = (λ(σ_{i−k}) − λ_s0)/h
//   predictor UniP:  x_t = (σ_t/σ_s0)·x − α_t·h_φ1·m_i − α_t·B_h·Σ_k ρ_p[k]·D1_k
//                    (ρ_p = [0.5] at order 2, else R[:-1,:-1] ρ = b[:-1])
//   corrector UniC (at step i, once m_i of the predicted x_i is known, re-doing the previous step):
//                    x_i = (σ_i/σ_{i−1})·x_{i−1} − α_i·h_φ1·m_{i−1}
//                          − α_i·B_h·(Σ_k ρ_c[k]·D1_k + ρ_c[last]·(m_i − m_{i−1}))
//                    (ρ_c = [0.5] at order 1, else R ρ = b)
//   with R[j][k] = r_k^j (r_last = 1) and b[j] = h_φ_{j+1}·(j+1)!/B_h, h_φ_{k+1} = h_φ_k/hh − 1/(k+1)!.
// Quirks of the reference kept on purpose (so outputs match it):
// - m_i is computed from the PREDICTED x_i (before the corrector), and the predictor then starts
//   from the CORRECTED x_i;
// - the order is 1 at step 0 (warm-up), `order` afterwards, and lower_order_final caps it at N − i, so
//   the last step is order 1;
// - the last step goes to σ = 0, where λ = +∞: the order-1 formula's limit is x_t = m_i (α_t = 1,
//   h_φ1 = B_h = −1, σ_t/σ_s0 = 0). This solver returns m_i there explicitly, at any order (the
//   higher-order terms have no finite limit: r_k → 0).
// Coefficients are computed in float64 from the (float32-valued) σ; each element's combination is
// evaluated in float64 and rounded to float32 once.
import { checkStep } from './euler.js';
import type { FlowSolver, SolverStepResult } from './types.js';

export interface UniPCOptions {
  /** Solver order p (1, 2 or 3); Wan uses 2. */
  order?: number;
  /** 'bh2' (Wan's default) or 'bh1'. */
  variant?: 'bh1' | 'bh2';
  /** Lower the order near the end so the last step is order 1 (default true, as Wan). */
  lowerOrderFinal?: boolean;
  /** Step indices i whose FOLLOWING step (i+1) skips the corrector (diffusers' disable_corrector). */
  disableCorrector?: readonly number[];
}

const lambdaOf = (sigma: number): number => Math.log(1 - sigma) - Math.log(sigma);

export class UniPCSolver implements FlowSolver {
  readonly name = 'unipc' as const;
  private readonly order: number;
  private readonly variant: 'bh1' | 'bh2';
  private readonly lowerOrderFinal: boolean;
  private readonly disableCorrector: ReadonlySet<number>;
  private readonly steps: number;
  /** x0 predictions m of the last `order` steps, oldest first. */
  private history: Float32Array[] = [];
  private lastSample: Float32Array | null = null;
  private lowerOrderNums = 0;
  private thisOrder = 0;
  private nextIndex = 0;

  /** `sigmas`: N+1 values ending in 0 (FlowSchedule.sigmas); sigmas[0] must be < 1 (λ(1) = −∞). */
  constructor(
    private readonly sigmas: Float64Array,
    opts: UniPCOptions = {},
  ) {
    this.order = opts.order ?? 2;
    this.variant = opts.variant ?? 'bh2';
    this.lowerOrderFinal = opts.lowerOrderFinal ?? true;
    this.disableCorrector = new Set(opts.disableCorrector ?? []);
    this.steps = sigmas.length - 1;
    if (![1, 2, 3].includes(this.order)) throw new RangeError(`UniPCSolver: order must be 1, 2 or 3 (got ${this.order})`);
    if (this.steps < 1) throw new RangeError('UniPCSolver: need at least 2 sigmas (one step)');
    if (!(sigmas[0]! < 1)) {
      throw new RangeError(`UniPCSolver: sigmas[0] = ${sigmas[0]} but UniPC needs σ < 1 (λ(1) = −∞); use sigmaMax ${Math.fround(0.999)} (the official schedule) or the Euler solver`);
    }
    for (let i = 0; i < this.steps; i++) {
      if (!(sigmas[i]! > 0)) throw new RangeError(`UniPCSolver: sigmas[${i}] = ${sigmas[i]} must be > 0 (only the final σ may be 0)`);
    }
  }

  step(i: number, x: Float32Array, v: Float32Array): SolverStepResult {
    checkStep('UniPCSolver', i, this.nextIndex, this.steps, x, v);
    this.nextIndex = i + 1;
    const sigma = this.sigmas[i]!;
    const n = x.length;

    // m_i from the sample as the model saw it (before correction).
    const m = new Float32Array(n);
    for (let k = 0; k < n; k++) m[k] = x[k]! - sigma * v[k]!;

    let sample = x;
    const useCorrector = i > 0 && !this.disableCorrector.has(i - 1) && this.lastSample !== null;
    if (useCorrector) sample = this.correct(i, m, this.lastSample!, this.thisOrder);

    this.history.push(m);
    if (this.history.length > this.order) this.history.shift();

    const capped = this.lowerOrderFinal ? Math.min(this.order, this.steps - i) : this.order;
    this.thisOrder = Math.min(capped, this.lowerOrderNums + 1);
    this.lastSample = sample;
    const next = this.predict(i, sample, this.thisOrder);
    if (this.lowerOrderNums < this.order) this.lowerOrderNums++;
    return { next, x0: m };
  }

  /** UniP from σ_i to σ_{i+1}, starting at `x` (the corrected sample); history's last entry is m_i. */
  private predict(i: number, x: Float32Array, order: number): Float32Array {
    const hist = this.history;
    const m0 = hist[hist.length - 1]!;
    const sigmaT = this.sigmas[i + 1]!;
    const n = x.length;
    if (sigmaT === 0) return Float32Array.from(m0); // λ_t = +∞: x_t = m0 (see header)

    const sigmaS0 = this.sigmas[i]!;
    const alphaT = 1 - sigmaT;
    const lambdaS0 = lambdaOf(sigmaS0);
    const h = lambdaOf(sigmaT) - lambdaS0;
    const rks: number[] = [];
    for (let k = 1; k < order; k++) rks.push((lambdaOf(this.sigmas[i - k]!) - lambdaS0) / h);
    const { hPhi1, bH, R, b } = this.coefficients(h, rks);

    let rhos: number[] = [];
    if (order === 2) rhos = [0.5];
    else if (order > 2) rhos = solve(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1));

    // x_t = cx·x + cm·m0 + Σ_k ck·(m_{i−k} − m0), with D1_k = (m_{i−k} − m0)/r_k folded into ck.
    const cx = sigmaT / sigmaS0;
    const cm = -alphaT * hPhi1;
    const others = rks.map((_, j) => hist[hist.length - 2 - j]!);
    const ck = rks.map((rk, j) => (-alphaT * bH * rhos[j]!) / rk);
    return combine(n, x, cx, m0, cm, others, ck, null, 0);
  }

  /** UniC: re-does step i−1 (σ_{i−1} → σ_i) from `last` with the new m_i; history's last entry is m_{i−1}. */
  private correct(i: number, mT: Float32Array, last: Float32Array, order: number): Float32Array {
    const hist = this.history;
    const m0 = hist[hist.length - 1]!;
    const sigmaT = this.sigmas[i]!;
    const sigmaS0 = this.sigmas[i - 1]!;
    const alphaT = 1 - sigmaT;
    const lambdaS0 = lambdaOf(sigmaS0);
    const h = lambdaOf(sigmaT) - lambdaS0;
    const rks: number[] = [];
    for (let k = 1; k < order; k++) rks.push((lambdaOf(this.sigmas[i - (k + 1)]!) - lambdaS0) / h);
    const { hPhi1, bH, R, b } = this.coefficients(h, rks);
    const rhos = order === 1 ? [0.5] : solve(R, b);

    const cx = sigmaT / sigmaS0;
    const cm = -alphaT * hPhi1;
    const others = rks.map((_, j) => hist[hist.length - 2 - j]!);
    const ck = rks.map((rk, j) => (-alphaT * bH * rhos[j]!) / rk);
    const cT = -alphaT * bH * rhos[rhos.length - 1]!;
    return combine(last.length, last, cx, m0, cm, others, ck, mT, cT);
  }

  /** h_φ1, B_h and the order conditions R (rows r^0, r^1, …) and b, with r = [...rks, 1]. */
  private coefficients(h: number, rks: number[]): { hPhi1: number; bH: number; R: number[][]; b: number[] } {
    const hh = -h; // predict_x0
    const hPhi1 = Math.expm1(hh);
    const bH = this.variant === 'bh2' ? Math.expm1(hh) : hh;
    const r = [...rks, 1];
    const R: number[][] = [];
    const b: number[] = [];
    let hPhiK = hPhi1 / hh - 1;
    let factorial = 1;
    for (let j = 1; j <= r.length; j++) {
      R.push(r.map((rk) => Math.pow(rk, j - 1)));
      b.push((hPhiK * factorial) / bH);
      factorial *= j + 1;
      hPhiK = hPhiK / hh - 1 / factorial;
    }
    return { hPhi1, bH, R, b };
  }
}

/** out = cx·x + cm·m0 + Σ ck[j]·(others[j] − m0) + cT·(mT − m0), per element in float64. */
function combine(n: number, x: Float32Array, cx: number, m0: Float32Array, cm: number, others: Float32Array[], ck: number[], mT: Float32Array | null, cT: number): Float32Array {
  const out = new Float32Array(n);
  const o1 = others[0];
  const c1 = ck[0] ?? 0;
  if (others.length <= 1) {
    // The common cases (order ≤ 2) without an inner loop.
    for (let k = 0; k < n; k++) {
      const mk = m0[k]!;
      let acc = cx * x[k]! + cm * mk;
      if (o1) acc += c1 * (o1[k]! - mk);
      if (mT) acc += cT * (mT[k]! - mk);
      out[k] = acc;
    }
    return out;
  }
  for (let k = 0; k < n; k++) {
    const mk = m0[k]!;
    let acc = cx * x[k]! + cm * mk;
    for (let j = 0; j < others.length; j++) acc += ck[j]! * (others[j]![k]! - mk);
    if (mT) acc += cT * (mT[k]! - mk);
    out[k] = acc;
  }
  return out;
}

/** Solves the small dense system A·y = b (Gaussian elimination, partial pivoting, float64). */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, r) => [...row.slice(0, n), b[r]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (M[p]![c] === 0 || !Number.isFinite(M[p]![c]!)) throw new RangeError(`UniPCSolver: singular order-condition system (column ${c})`);
    [M[c], M[p]] = [M[p]!, M[c]!];
    const pivot = M[c]!;
    for (let r = c + 1; r < n; r++) {
      const row = M[r]!;
      const f = row[c]! / pivot[c]!;
      for (let k = c; k <= n; k++) row[k] = row[k]! - f * pivot[k]!;
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * y[k]!;
    y[r] = s / M[r]![r]!;
  }
  return y;
}
