// Velocity fields with closed-form flows, for testing the solvers and the sampler.
//
// Flow matching x_σ = (1−σ)·x0 + σ·ε, ε ~ N(0, 1), exact velocity v(x, σ) = E[ε − x0 | x_σ = x].
// - Data = a single point p: v = (x − p)/σ; the flow is a straight line, x(σ) − p ∝ σ, so every
//   solver that steps along v (Euler) or through the x0 prediction (UniPC) is exact.
// - Data ~ N(μ, s²) per element: x_σ ~ N((1−σ)μ, V(σ)), V = (1−σ)²s² + σ²,
//     v = (σ − (1−σ)s²)/V·(x − (1−σ)μ) − μ,
//   and the ODE keeps the standardised value: x(σ) = (1−σ)μ + √(V(σ)/V(σ₀))·(x(σ₀) − (1−σ₀)μ).
//   Starting from noise at σ₀ = 1 it ends at μ + s·ε: samples with mean μ and std s.

export function pointVelocity(p: number): (x: Float32Array, sigma: number) => Float32Array {
  return (x, sigma) => Float32Array.from(x, (xk) => (xk - p) / sigma);
}

export function gaussianVariance(s: number, sigma: number): number {
  return (1 - sigma) ** 2 * s * s + sigma * sigma;
}

export function gaussianVelocity(mu: number, s: number): (x: Float32Array, sigma: number) => Float32Array {
  return (x, sigma) => {
    const a = (sigma - (1 - sigma) * s * s) / gaussianVariance(s, sigma);
    return Float32Array.from(x, (xk) => a * (xk - (1 - sigma) * mu) - mu);
  };
}

/** Exact x(σ_to) of the Gaussian flow through x(σ_from) = x, per element. */
export function gaussianFlow(mu: number, s: number, x: ArrayLike<number>, sigmaFrom: number, sigmaTo: number): Float64Array {
  const k = Math.sqrt(gaussianVariance(s, sigmaTo) / gaussianVariance(s, sigmaFrom));
  return Float64Array.from(x as ArrayLike<number>, (xk) => (1 - sigmaTo) * mu + k * (xk - (1 - sigmaFrom) * mu));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let q = 0;
  for (let i = 0; i < a.length; i++) q += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}
