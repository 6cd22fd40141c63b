// A new project generates with the settings the built-in model was tuned and measured with (its model
// card's numbers), not with another model's.
import assert from 'node:assert/strict';
import test from 'node:test';
import { packageDefaults } from '../pipeline/defaults.js';
import { BUILT_IN_MODEL_DIR } from '../pipeline/demo-model.js';
import { DEFAULT_GENERATION } from './contract.js';

test("a new project's settings are the built-in model's own", async () => {
  const own = await packageDefaults(BUILT_IN_MODEL_DIR);
  assert.equal(DEFAULT_GENERATION.model, 'refree-mini');
  assert.deepEqual(
    { steps: DEFAULT_GENERATION.steps, guidance: DEFAULT_GENERATION.guidance, sampler: DEFAULT_GENERATION.sampler, fps: DEFAULT_GENERATION.fps, width: DEFAULT_GENERATION.width },
    { steps: own.steps, guidance: own.guidance, sampler: own.solver, fps: own.fps, width: own.outputSize },
  );
});
