// Types shared by the sampler, the solvers and guidance. The sampler is model-agnostic: it drives a
// `VelocityFn` that may wrap the real DiT session or a closed-form test field.
//
// Latent layout everywhere in engine/generate: ONE video, channel-major [C, F, H, W] (C = 48 for
// TI2V-5B, F latent frames, H×W the latent grid), flat in a Float32Array of C·F·H·W elements. The
// batch axis of the DiT graph (B = 1) is left to the caller.

/** [channels, latent frames, height, width]. */
export type LatentShape = readonly [number, number, number, number];

/** Where the sampler is when it asks for a velocity. */
export interface StepTime {
  /** 0-based index of the step being taken (0..steps−1). */
  step: number;
  /** Total number of steps. */
  steps: number;
  /** σ_i of this step in [0, 1] (float64; what the solver integrates over). */
  sigma: number;
  /** The model timestep for the noisy frames: σ_i·1000 (truncated to an integer when the schedule says so). */
  timestep: number;
  /**
   * One raw timestep per latent frame, the DiT graph's `timesteps` input [1, F]. Under TI2V conditioning
   * frame 0 (the clean portrait latent) gets 0 and every other frame gets `timestep`.
   */
  frameTimesteps: Float32Array;
}

/** Names of the guidance passes; each is one DiT forward per step. */
export type BranchName = 'cond' | 'noAudio' | 'uncond';

/** What the velocity callback must condition on for one pass. The portrait (frame 0) is never dropped. */
export interface GuidanceBranch {
  name: BranchName;
  /** false: mask the speech features (the model's "no audio" input). */
  audio: boolean;
  /** false: use the negative / empty text prompt instead of the positive one. */
  text: boolean;
}

/**
 * The model: velocity v ≈ ε − x0 at latent `x` (x_σ = (1−σ)·x0 + σ·ε). Must return a NEW array of the
 * same length as x and must not write into x (the sampler passes its state without copying).
 */
export type VelocityFn = (x: Float32Array, time: StepTime, branch: GuidanceBranch) => Promise<Float32Array>;

/** Result of one solver step. */
export interface SolverStepResult {
  /** The sample at σ_{i+1}: a fresh array the caller owns (it may patch it, e.g. reset frame 0). */
  next: Float32Array;
  /** The current x0 estimate x − σ_i·v (for live previews). May be solver state: treat as read-only. */
  x0: Float32Array;
}

/**
 * A flow-matching ODE solver over a fixed schedule; `step(i, …)` must be called for i = 0, 1, …, N−1 in
 * order. The solver may keep `x` (read-only) until the next step: callers must not write into it.
 */
export interface FlowSolver {
  readonly name: 'euler' | 'unipc';
  step(i: number, x: Float32Array, v: Float32Array): SolverStepResult;
}
