import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_GENERATION } from '../../../engine/service/contract.js';
import { DEFAULT_GENERATION_SETTINGS } from './defaults.js';

test("the renderer's default generation settings match the contract's", () => {
  assert.deepEqual(DEFAULT_GENERATION_SETTINGS, DEFAULT_GENERATION);
});
