// The studio's model list: the built-in refree-mini first and exactly once, whether the host ships its
// own assets folder (the desktop app, `npm run serve`) or none (the pipeline's package is used), then
// the packages in the data folder, where a test puts the tiny-random package as an imported one.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BUILT_IN_MODEL_DIR } from '../pipeline/demo-model.js';
import { TINY_RANDOM_NAME, tinyRandomPackage } from '../pipeline/testing/random-package.js';
import type { ServiceError } from './errors.js';
import { ModelStore } from './models.js';

const REPO_MODELS = path.dirname(BUILT_IN_MODEL_DIR);
let tmp = '';
let dataModels = '';

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'refree-model-store-'));
  dataModels = path.join(tmp, 'data', 'models');
  await tinyRandomPackage({ dir: path.join(dataModels, TINY_RANDOM_NAME) });
});
after(() => rm(tmp, { recursive: true, force: true }));

const summary = (list: { name: string; builtIn: boolean }[]): string[] => list.map((m) => `${m.name}${m.builtIn ? ' (built-in)' : ''}`);

test("with the repository's assets folder: refree-mini first and once, then the imported packages", async () => {
  const list = await new ModelStore(dataModels, REPO_MODELS).list();
  assert.deepEqual(summary(list), ['refree-mini (built-in)', TINY_RANDOM_NAME]);
  assert.equal(list[0]!.path, BUILT_IN_MODEL_DIR);
  assert.equal(list[1]!.path, path.join(dataModels, TINY_RANDOM_NAME));
  assert.equal(list[0]!.architecture, 'refree-mini');
});

test('a host without an assets folder still lists the pipeline\'s refree-mini first', async () => {
  const list = await new ModelStore(dataModels, null).list();
  assert.deepEqual(summary(list), ['refree-mini (built-in)', TINY_RANDOM_NAME]);
  assert.equal(list[0]!.path, BUILT_IN_MODEL_DIR);
});

test("a host's own assets folder: its refree-mini copy is the one listed, first, beside its other built-ins", async () => {
  const hostModels = path.join(tmp, 'host-assets', 'models');
  // Another built-in package that sorts before refree-mini, and the host's copy of refree-mini.
  await tinyRandomPackage({ dir: path.join(hostModels, 'a-extra') });
  await cp(BUILT_IN_MODEL_DIR, path.join(hostModels, 'refree-mini'), { recursive: true });
  const list = await new ModelStore(path.join(tmp, 'empty-data', 'models'), hostModels).list();
  assert.deepEqual(summary(list), ['refree-mini (built-in)', `${TINY_RANDOM_NAME} (built-in)`]);
  assert.equal(list[0]!.path, path.join(hostModels, 'refree-mini'), "the host's copy, not a second listing of the pipeline's");
  // A host folder without a usable refree-mini falls back to the pipeline's, still first.
  await rm(path.join(hostModels, 'refree-mini', 'refree.json'));
  const fallback = await new ModelStore(path.join(tmp, 'empty-data', 'models'), hostModels).list();
  assert.deepEqual(summary(fallback), ['refree-mini (built-in)', `${TINY_RANDOM_NAME} (built-in)`]);
  assert.equal(fallback[0]!.path, BUILT_IN_MODEL_DIR);
});

test('the built-in model cannot be removed, and its name cannot be taken by an import', async () => {
  const store = new ModelStore(dataModels, REPO_MODELS);
  await assert.rejects(store.remove('refree-mini'), (e: ServiceError) => e.code === 'conflict' && /built-in model and cannot be removed/.test(e.message));
  const folder = path.join(tmp, 'download');
  await mkdir(folder, { recursive: true });
  await assert.rejects(store.import(folder, 'refree-mini', () => undefined), (e: ServiceError) => e.code === 'conflict' && /"refree-mini" is the name of a built-in model; choose another name/.test(e.message));
  assert.deepEqual(summary(await store.list()), ['refree-mini (built-in)', TINY_RANDOM_NAME], 'nothing was written');
});
