// A prepared dataset is keyed by what preparation depends on (the VAE and the speech front-end), not by
// the whole package: a DiT of another shape or seed over the same VAE uses the same prepared clips.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { openPackageSource } from '../model/package/source.js';
import { packageHash, preparationHash } from './model.js';
import { readRandomSpec, tinyRandomPackage } from './testing/random-package.js';

let tmp = '';
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the preparation key follows the VAE and the speech front-end, not the DiT', async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'prep-hash-'));
  const { spec } = await readRandomSpec();
  const variant = async (name: string, change: object): Promise<string> => {
    const file = path.join(tmp, `${name}.json`);
    await writeFile(file, JSON.stringify({ ...spec, name, ...change }));
    return tinyRandomPackage({ root: path.join(tmp, 'models'), specFile: file });
  };
  const base = await openPackageSource(await variant('base', {}));
  const otherDit = await openPackageSource(await variant('other-dit', { seeds: { ...spec.seeds, dit: spec.seeds.dit + 1, refree: spec.seeds.refree + 1 } }));
  const otherVae = await openPackageSource(await variant('other-vae', { seeds: { ...spec.seeds, vae: spec.seeds.vae + 1 } }));
  const otherMel = await openPackageSource(await variant('other-mel', { speechFrontEnd: { ...spec.speechFrontEnd, resample: spec.speechFrontEnd.resample === 'area' ? 'linear' : 'area' } }));
  assert.notEqual(packageHash(base), packageHash(otherDit), 'the packages differ');
  assert.equal(preparationHash(base), preparationHash(otherDit), 'the same VAE and front-end: the same prepared data');
  assert.notEqual(preparationHash(base), preparationHash(otherVae), 'another VAE gives other latents');
  assert.notEqual(preparationHash(base), preparationHash(otherMel), 'another front-end gives other speech features');
});
