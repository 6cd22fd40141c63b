// The loop both training stages share: one optimizer update per step (the stage supplies it and the
// step's metrics), then metrics.jsonl, progress with ETA, checkpoints every N steps and at the end,
// sample videos every N steps; a cancel (pause) saves a checkpoint before stopping; at the end the
// adapter package. SFT and DPO differ only in their batch, graph and metrics (sft.ts, dpo.ts).
import path from 'node:path';
import { CancelledError } from '../common/engine-errors.js';
import { writeAdapterPackage } from './adapter.js';
import type { TrainBase } from './base-model.js';
import type { TrainData } from './data.js';
import type { TrainHooks } from './events.js';
import { Eta } from './events.js';
import type { CheckpointIdentity, Stage, StepMetrics } from './run-folder.js';
import { appendMetrics, saveCheckpoint } from './run-folder.js';
import { writeSample } from './samples.js';
import type { CommonSettings } from './settings.js';
import type { Stepper } from './stepper.js';
import type { TrainableSet } from './trainable.js';

export interface StageLoop {
  stage: Stage;
  runDir: string;
  id: CheckpointIdentity;
  base: TrainBase;
  set: TrainableSet;
  data: TrainData;
  datasetDir: string;
  settings: CommonSettings;
  stepper: Stepper;
  /** Extra tensors of the checkpoint (the DPO reference), read at save time. */
  extra?: () => { ref?: Float32Array };
  hooks: TrainHooks;
}

/** Runs the remaining steps; `update(step)` applies one update and returns that step's metrics. */
export async function runStageLoop(c: StageLoop, update: (step: number) => Promise<StepMetrics>): Promise<{ adapter: string; last: StepMetrics | null }> {
  const { stepper, settings: s, runDir, stage } = c;
  const emit = c.hooks.onEvent ?? (() => undefined);
  const save = async (): Promise<void> => {
    const file = await saveCheckpoint(runDir, c.id, { step: stepper.step, params: stepper.params, m: stepper.m, v: stepper.v, ...(c.extra?.() ?? {}) });
    emit({ type: 'checkpoint', step: stepper.step, file });
  };
  let last: StepMetrics | null = null;
  const eta = new Eta(stepper.step);
  while (stepper.step < s.steps) {
    if (c.hooks.signal?.aborted) {
      await save();
      throw new CancelledError(`training was paused at step ${stepper.step} of ${s.steps}; the checkpoint is saved and the run resumes from it`);
    }
    last = await update(stepper.step + 1);
    await appendMetrics(runDir, last);
    emit({ type: 'progress', phase: 'train', done: stepper.step, total: s.steps, fraction: stepper.step / s.steps, elapsedS: +eta.elapsed().toFixed(2), etaS: eta.eta(stepper.step, s.steps), metrics: last });
    const at = (every: number): boolean => every > 0 && (stepper.step % every === 0 || stepper.step === s.steps);
    if (at(s.checkpointEvery)) await save();
    if (at(s.sampleEvery)) {
      const file = await writeSample(runDir, stage, stepper.step, c.base, c.set, stepper.params, c.data, c.datasetDir, c.hooks.signal);
      emit({ type: 'sample', step: stepper.step, file });
    }
  }
  emit({ type: 'stage', stage: 'adapter', message: 'writing the adapter package' });
  const adapter = path.join(runDir, 'adapter');
  const { base } = c;
  await writeAdapterPackage(adapter, c.set, stepper.params, base.arch.dit, { name: `${base.name}-${stage}`, base: { name: base.name, hash: base.hash, dir: base.dir }, run: runDir, stage });
  return { adapter, last };
}
