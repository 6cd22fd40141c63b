// What a training run reports while it runs (the CLI's progress bar and --json lines, the queue's
// progress, the studio's live charts all read these).
import type { StepMetrics } from './run-folder.js';

export type TrainEvent =
  | { type: 'stage'; stage: 'open' | 'data' | 'compile' | 'negatives' | 'train' | 'adapter'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'resumed'; step: number; checkpoint: string }
  | {
      type: 'progress';
      /** Work done / total in the current phase ("negatives": tuples generated; "train": steps). */
      phase: 'negatives' | 'train';
      done: number;
      total: number;
      fraction: number;
      elapsedS: number;
      etaS: number | null;
      metrics?: StepMetrics;
    }
  | { type: 'checkpoint'; step: number; file: string }
  | { type: 'sample'; step: number; file: string };

export interface TrainHooks {
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}

/** ETA from the rate of this session's own progress (resumed work does not count as fast). */
export class Eta {
  private readonly t0 = performance.now();
  constructor(private readonly startDone: number) {}
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }
  eta(done: number, total: number): number | null {
    const did = done - this.startDone;
    if (did <= 0) return null;
    return +((this.elapsed() / did) * (total - done)).toFixed(1);
  }
}
