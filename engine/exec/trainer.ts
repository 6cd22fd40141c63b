// Runs a training graph built by graph/nn/train-step.ts: owns the ORT session and the optimizer state,
// and feeds each step's outputs back as the next step's inputs. This is the small harness the nn tests
// and bench/graph.ts use. It lives above both engine/graph (which only builds graphs) and
// engine/runtime (which opens sessions).
import type { ParamLayout } from '../graph/params.js';
import type { TrainGraph } from '../graph/nn/train-step.js';
import { CompiledGraph } from '../runtime/session.js';
import type { Feeds, SessionOptions } from '../runtime/session.js';

/** Owns a training session and its state; each step feeds the previous step's outputs back in. */
export class Trainer {
  stepIndex = 1;
  private constructor(
    readonly session: CompiledGraph,
    readonly layout: ParamLayout,
    public params: Float32Array,
    public m: Float32Array,
    public v: Float32Array,
  ) {}

  static async open(tg: TrainGraph, opts: SessionOptions & { seed?: number; params?: Float32Array } = {}): Promise<Trainer> {
    const session = await CompiledGraph.fromGraph(tg.graph, { ...opts, outputs: tg.outputs });
    const n = tg.layout.size;
    return new Trainer(session, tg.layout, opts.params ? Float32Array.from(opts.params) : tg.layout.initialize(opts.seed ?? 0), new Float32Array(n), new Float32Array(n));
  }

  /** One update with learning rate `lr`; returns the loss before the update. */
  async step(data: Feeds, lr: number): Promise<number> {
    const out = await this.session.run({ ...data, params: this.params, adam_m: this.m, adam_v: this.v, step: Float32Array.of(this.stepIndex), lr: Float32Array.of(lr) });
    this.params = out.params_out as Float32Array;
    this.m = out.adam_m_out as Float32Array;
    this.v = out.adam_v_out as Float32Array;
    this.stepIndex = (out.step_out as Float32Array)[0]!;
    return (out.loss as Float32Array)[0]!;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
