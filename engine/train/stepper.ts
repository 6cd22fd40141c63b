// Runs a training-step graph (graphs.ts) and owns the optimizer state it feeds back: params, Adam
// moments and the step counter. Gradient accumulation over k micro-batches: the first k−1 runs use
// lr 0 and keep only `grad` (their update is discarded), the last gets their sum as grad_extra and
// grad_scale 1/k, so the applied gradient is the mean over all k micro-batches.
import type { Graph, Tensor } from '../graph/graph.js';
import type { OpenOptions } from '../runtime/backends.js';
import type { CompiledGraph, Feeds, Fetches } from '../runtime/session.js';
import { compileInCache } from '../model/package/engine-cache.js';

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** Every output of the last micro-batch (DPO reads policy_err / ref_err here). */
  outputs: Fetches[];
}

export class Stepper {
  private zeros: Float32Array;
  private constructor(
    readonly session: CompiledGraph,
    readonly modelPath: string,
    public params: Float32Array,
    public m: Float32Array,
    public v: Float32Array,
    /** Updates applied so far (the next update is number step + 1). */
    public step: number,
  ) {
    this.zeros = new Float32Array(params.length);
  }

  /** Compiles `graph` into the engine cache folder `dir` (beside the frozen weights it references). */
  static async open(graph: Graph, outputs: Tensor[], dir: string, stem: string, state: { params: Float32Array; m?: Float32Array; v?: Float32Array; step?: number }, open: OpenOptions = {}): Promise<Stepper> {
    const opened = await compileInCache(graph, dir, stem, { optimization: 'basic', disableCse: true, memPattern: false, ...open, outputs });
    const n = state.params.length;
    return new Stepper(opened.session, opened.modelPath, state.params, state.m ?? new Float32Array(n), state.v ?? new Float32Array(n), state.step ?? 0);
  }

  /** One optimizer update from `micro` micro-batches (each a feeds object of the graph's data inputs). */
  async update(micro: readonly Feeds[], lr: number): Promise<StepResult> {
    const k = micro.length;
    let extra = this.zeros;
    let lossSum = 0;
    const outs: Fetches[] = [];
    for (let i = 0; i < k; i++) {
      const last = i === k - 1;
      const r = await this.session.run({
        ...micro[i]!,
        params: this.params,
        adam_m: this.m,
        adam_v: this.v,
        step: Float32Array.of(this.step + 1),
        lr: Float32Array.of(last ? lr : 0),
        grad_extra: extra,
        grad_scale: Float32Array.of(last ? 1 / k : 1),
      });
      lossSum += (r.loss as Float32Array)[0]!;
      outs.push(r);
      if (!last) {
        const g = r.grad as Float32Array;
        const next = new Float32Array(g.length);
        for (let j = 0; j < g.length; j++) next[j] = extra[j]! + g[j]!;
        extra = next;
        continue;
      }
      this.params = r.params_out as Float32Array;
      this.m = r.adam_m_out as Float32Array;
      this.v = r.adam_v_out as Float32Array;
      this.step++;
      const loss = lossSum / k;
      const gradNorm = (r.grad_norm as Float32Array)[0]!;
      if (!Number.isFinite(loss) || !this.params.every(Number.isFinite)) {
        throw new Error(`training diverged at step ${this.step} (loss ${loss}): lower the learning rate and resume from the last checkpoint`);
      }
      return { loss, gradNorm, outputs: outs };
    }
    throw new Error('internal: no micro-batch');
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Linear warm-up to `lr`, then cosine decay to lr·minRatio at `total` steps. `step` is 1-based. */
export function learningRate(step: number, total: number, lr: number, warmup: number, minRatio: number): number {
  if (warmup > 0 && step <= warmup) return (lr * step) / warmup;
  const span = Math.max(1, total - warmup);
  const p = Math.min(1, Math.max(0, (step - warmup) / span));
  return lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
