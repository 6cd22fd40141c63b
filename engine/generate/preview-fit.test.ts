// The preview map fitted to the tiny-random package's own VAE: better than the grey placeholder on pictures it
// was not fitted on, saved as preview.json and reused, refitted when damaged or stale, and kept in the
// cache folder when the package folder cannot be written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ASSETS_DEMO_DIR } from '../pipeline/demo-model.js';
import { tinyRandomPackage } from '../pipeline/testing/random-package.js';
import type { GenerateEvent } from '../pipeline/generate.js';
import { generateVideo } from '../pipeline/generate.js';
import type { GenerationModel } from '../pipeline/model.js';
import { openGenerationModel } from '../pipeline/model.js';
import { uncalibratedProjection } from './preview.js';
import type { PreviewFile } from './preview-fit.js';
import { PREVIEW_FILE, cachedPreviewFile, collectSamples, fitImages, fitSize, poolPixels, projectionRmse } from './preview-fit.js';
import { SAMPLE_AVATAR, fitVaeOf, modelPreviewProjection as previewProjection, previewStoreOf } from '../pipeline/preview-colours.js';

let tmp = '';
let pkg = '';
let model: GenerationModel;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-preview-fit-'));
  process.env.REFREE_CACHE_DIR = path.join(tmp, 'cache');
  pkg = await tinyRandomPackage();
  model = await openGenerationModel(pkg);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('poolPixels averages each s×s block of frame 0, clamped to [-1, 1]', () => {
  // [3, 2, 2, 4] pixels, blocks of 2: two cells per colour.
  const pix = new Float32Array(3 * 2 * 2 * 4);
  pix.set([1, 1, -1, -1, 0.5, 0.5, 3, -3], 0); // R frame 0 (second frame must be ignored)
  pix.set([9, 9, 9, 9, 9, 9, 9, 9], 8);
  pix.set([0, 0, 0, 0, 0, 0, 0, 0.4], 16); // G frame 0
  pix.set([-2, -2, -2, -2, -2, -2, -2, -2], 32); // B frame 0
  const out = poolPixels(pix, 2, 2, 4, 2);
  assert.deepEqual([...out].map((v) => +v.toFixed(4)), [0.75, -0.5, 0, 0.1, -1, -1]);
});

test('fit on the tiny-random VAE: clearly better than the placeholder on held-out pictures, saved, reused', async () => {
  const warnings: string[] = [];
  let fits = 0;
  const a = await previewProjection(model, { onWarning: (w) => warnings.push(w), onFitStart: () => fits++ });
  assert.equal(a.source, 'fitted');
  assert.equal(fits, 1);
  assert.deepEqual(warnings, []);
  const file = path.join(pkg, PREVIEW_FILE);
  assert.equal(a.file, file);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as PreviewFile;
  assert.equal(saved.package, model.hash);
  assert.equal(saved.channels, model.channels);
  assert.equal(saved.weights.length, model.channels * 3);
  assert.equal(saved.fitted.samples, 4 * 16 * 16);
  assert.ok(saved.fitted.rmse < saved.fitted.placeholderRmse, `fitted ${saved.fitted.rmse} vs placeholder ${saved.fitted.placeholderRmse}`);
  assert.ok(a.fitted.seconds < 30, `the fit took ${a.fitted.seconds} s`);

  // Held out: other pictures (another seed) encoded and decoded by the same VAE.
  const vae = fitVaeOf(model);
  const size = fitSize(vae);
  const held = await collectSamples(vae, await fitImages(size, 2, 12345, SAMPLE_AVATAR), size);
  const fitted = projectionRmse(a.projection, held);
  const grey = projectionRmse(uncalibratedProjection(model.channels), held);
  console.log(`held-out RMSE ([-1, 1] units): fitted ${fitted.toFixed(4)}, placeholder ${grey.toFixed(4)}; fit took ${a.fitted.seconds} s (training RMSE ${a.fitted.rmse} vs ${a.fitted.placeholderRmse})`);
  assert.ok(fitted < 0.5 * grey, `held-out RMSE ${fitted} is not clearly below the placeholder's ${grey}`);
  // The weights carry information, not only the mean colour: the map beats its own bias alone.
  const biasOnly = projectionRmse({ ...a.projection, weights: new Float32Array(model.channels * 3) }, held);
  assert.ok(fitted < 0.9 * biasOnly, `held-out RMSE ${fitted} vs ${biasOnly} for the bias alone`);

  // Second use: read, not fitted again, file untouched.
  const mtime = statSync(file).mtimeMs;
  const b = await previewProjection(model, { onFitStart: () => fits++ });
  assert.equal(b.source, 'package');
  assert.equal(fits, 1);
  assert.equal(statSync(file).mtimeMs, mtime);
  assert.deepEqual([...b.projection.weights], [...a.projection.weights]);
  assert.deepEqual([...b.projection.bias], [...a.projection.bias]);
});

test('a damaged preview.json is fitted again with a warning; one of another package is fitted again quietly', async () => {
  const file = path.join(pkg, PREVIEW_FILE);
  await previewProjection(model);
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, '{"format": "refree-preview/1", "weights": [1, 2');
  const warnings: string[] = [];
  const r = await previewProjection(model, { onWarning: (w) => warnings.push(w) });
  assert.equal(r.source, 'fitted');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /live-preview colours in .*preview\.json is not valid JSON .*fitting them again/);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).weights, JSON.parse(good).weights, 'the fit is deterministic');

  const wrongWeights = { ...(JSON.parse(good) as PreviewFile), weights: [1, 2, 3] };
  writeFileSync(file, JSON.stringify(wrongWeights));
  const w2: string[] = [];
  assert.equal((await previewProjection(model, { onWarning: (w) => w2.push(w) })).source, 'fitted');
  assert.match(w2[0]!, /"weights" must be 48 finite numbers/);

  writeFileSync(file, JSON.stringify({ ...(JSON.parse(good) as PreviewFile), package: 'another package' }));
  const w3: string[] = [];
  assert.equal((await previewProjection(model, { onWarning: (w) => w3.push(w) })).source, 'fitted');
  assert.deepEqual(w3, []);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as PreviewFile).package, model.hash);
});

test('a package folder that cannot be written keeps its fit in the cache folder', async (t) => {
  rmSync(path.join(pkg, PREVIEW_FILE), { force: true });
  // Root ignores permission bits, so use the immutable attribute there when the filesystem allows it.
  const lock = (on: boolean): boolean => {
    try {
      if (process.getuid?.() === 0) execFileSync('chattr', [on ? '+i' : '-i', pkg], { stdio: 'ignore' });
      else execFileSync('chmod', [on ? '555' : '755', pkg]);
      return true;
    } catch {
      return false;
    }
  };
  if (!lock(true)) return t.skip('cannot make a folder read-only here');
  try {
    try {
      writeFileSync(path.join(pkg, 'probe'), '');
      rmSync(path.join(pkg, 'probe'));
      return t.skip('the folder is still writable');
    } catch {
      // read-only as intended
    }
    const r = await previewProjection(model);
    assert.equal(r.source, 'fitted');
    assert.equal(r.file, cachedPreviewFile(previewStoreOf(model)));
    assert.ok(!existsSync(path.join(pkg, PREVIEW_FILE)));
    const again = await previewProjection(model);
    assert.equal(again.source, 'cache');
  } finally {
    lock(false);
  }
});

test('generation fits the colours at its first run with previews, and reads them afterwards', async () => {
  rmSync(path.join(pkg, PREVIEW_FILE), { force: true });
  rmSync(cachedPreviewFile(previewStoreOf(model)), { force: true });
  const run = async (out: string, previewEvery?: number): Promise<GenerateEvent[]> => {
    const events: GenerateEvent[] = [];
    const opts = { model: pkg, portrait: path.join(ASSETS_DEMO_DIR, 'avatar.png'), audio: path.join(ASSETS_DEMO_DIR, 'speech.wav'), end: 0.6, steps: 2, chunkLatentFrames: 4, motionLatentFrames: 1, detectFace: false, out: path.join(tmp, out) };
    await generateVideo({ ...opts, ...(previewEvery !== undefined ? { previewEvery } : {}) }, { onEvent: (e) => events.push(e) });
    return events;
  };
  const fitting = (ev: GenerateEvent[]): boolean => ev.some((e) => e.type === 'stage' && /fitting the live-preview colours/.test(e.message));
  const off = await run('off.mp4', 0);
  assert.ok(!fitting(off) && !existsSync(path.join(pkg, PREVIEW_FILE)), 'no previews, no fit');
  const first = await run('first.mp4');
  assert.ok(fitting(first));
  assert.ok(first.some((e) => e.type === 'preview'));
  assert.equal((JSON.parse(readFileSync(path.join(pkg, PREVIEW_FILE), 'utf8')) as PreviewFile).package, model.hash);
  const second = await run('second.mp4');
  assert.ok(!fitting(second));
  assert.ok(!second.some((e) => e.type === 'warning'), JSON.stringify(second.filter((e) => e.type === 'warning')));
});
