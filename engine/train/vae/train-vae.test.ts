// VAE training end to end on two tiny synthetic clips: the loss falls, a paused run resumes to the same
// parameters as an uninterrupted one, the finished run folds its latent statistics so encoded latents
// come out normalised, and bad clip folders get a sentence.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { VaeConfig } from '../../model/config.js';
import { SafetensorsFile } from '../../model/weights/safetensors.js';
import { writeClip } from '../../synth/clip.js';
import { trainVaeCommand } from '../../cli/train-vae.js';
import { CancelledError } from '../../common/engine-errors.js';
import { readMetrics, readRun } from '../run-folder.js';
import { loadVaeClips } from './data.js';
import { VaeCodec, evalWindows, measureLatentStats, weightMap } from './finish.js';
import { vaeLayout } from './graph.js';
import { vaeDecoderParams, vaeEncoderParams } from '../../model/inventory/vae.js';
import { runVaeTraining } from './train.js';

const TINY_VAE: VaeConfig = { zDim: 4, encDim: 4, decDim: 4, dimMult: [2, 2], numResBlocks: 1, temporalDownsample: [true], pixelPatch: 4 };
const settings = { vae: TINY_VAE, size: 32, steps: 6, batch: 2, frames: 3, lr: 5e-3, warmup: 1, checkpointEvery: 2, maxFrames: 18 };
let dir: string;
let clips: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'refree-vae-'));
  clips = path.join(dir, 'clips');
  for (const seed of [3, 4]) await writeClip(clips, `c${seed}`, { seed, split: 'train', seconds: 1.2, size: 64 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a few steps lower the loss; a paused run resumes to the same parameters; latents come out normalised', async () => {
  const straight = await runVaeTraining({ clips, out: path.join(dir, 'a'), settings });
  const m = await readMetrics(path.join(dir, 'a'));
  assert.equal(m.length, 6);
  const first = (m[0]!.loss + m[1]!.loss) / 2;
  const last = (m[4]!.loss + m[5]!.loss) / 2;
  assert.ok(last < first * 0.9, `loss should fall: ${m.map((x) => x.loss).join(', ')}`);
  assert.ok(straight.train.psnr > 0 && Number.isFinite(straight.train.mouthPsnr));

  // Paused after step 3 (checkpoint on pause), then the same call continues.
  const ctl = new AbortController();
  const outB = path.join(dir, 'b');
  await assert.rejects(
    runVaeTraining({ clips, out: outB, settings }, { signal: ctl.signal, onEvent: (e) => e.type === 'progress' && e.done === 3 && ctl.abort() }),
    (e: unknown) => e instanceof CancelledError && /paused at step 3/.test((e as Error).message),
  );
  const resumed = await runVaeTraining({ clips, out: outB, settings });
  assert.equal(resumed.resumedFrom, 3);
  const read = async (f: string): Promise<Float32Array> => {
    const st = await SafetensorsFile.open(f);
    try {
      return Float32Array.from(await st.readF32('conv1.weight'));
    } finally {
      await st.close();
    }
  };
  const [wa, wb] = [await read(straight.weights), await read(resumed.weights)];
  let worst = 0;
  for (let i = 0; i < wa.length; i++) worst = Math.max(worst, Math.abs(wa[i]! - wb[i]!) / Math.max(1e-6, Math.abs(wa[i]!)));
  assert.ok(worst <= 1e-5, `resumed run differs from the uninterrupted one by ${worst}`);

  // A new run can start from a finished run's weights (to train longer): its first loss is already low.
  const cont = await runVaeTraining({ clips, out: path.join(dir, 'c'), init: straight.weights, settings: { ...settings, steps: 1 } });
  const mc = await readMetrics(cont.run);
  assert.ok(mc[0]!.loss < m[0]!.loss * 0.9, `started from trained weights: ${mc[0]!.loss} vs ${m[0]!.loss}`);
  await assert.rejects(runVaeTraining({ clips, out: path.join(dir, 'd'), init: path.join(dir, 'missing.safetensors'), settings }), /cannot be read/);

  // The folded weights encode to latents with mean ≈ 0 and std ≈ 1 per channel on the same windows.
  const st = await SafetensorsFile.open(straight.weights);
  const layout = vaeLayout(TINY_VAE);
  const flat = new Float32Array(layout.size);
  try {
    for (const e of layout.entries) flat.set(await st.readF32(e.name), e.offset);
  } finally {
    await st.close();
  }
  const data = await loadVaeClips(clips, { size: 32, minFrames: 3, maxFrames: 18 });
  const codec = await VaeCodec.open(TINY_VAE, weightMap(layout, flat), 3, 32, 2);
  try {
    const s = await measureLatentStats(codec, evalWindows(data, 3, 4), 3, 32, TINY_VAE.zDim);
    for (let c = 0; c < TINY_VAE.zDim; c++) {
      assert.ok(Math.abs(s.mean[c]!) < 1e-3, `channel ${c} mean ${s.mean[c]}`);
      assert.ok(Math.abs(s.std[c]! - 1) < 1e-3, `channel ${c} std ${s.std[c]}`);
    }
  } finally {
    await codec.release();
  }

  // Decoder-only: a wider decoder trained against the frozen encoder. Every encoder tensor (conv1
  // included: no statistics are folded again) is bit-identical to the finished run's, so latents made
  // with it stay valid; the decoder has the new width; its loss falls.
  const wide: VaeConfig = { ...TINY_VAE, decDim: 8 };
  const dec = await runVaeTraining({ clips, out: path.join(dir, 'dec'), init: straight.weights, settings: { ...settings, vae: wide, decoderOnly: true } });
  const md = await readMetrics(dec.run);
  assert.ok((md[4]!.loss + md[5]!.loss) / 2 < (md[0]!.loss + md[1]!.loss) / 2, `decoder loss should fall: ${md.map((x) => x.loss).join(', ')}`);
  const [before, afterDec] = [await SafetensorsFile.open(straight.weights), await SafetensorsFile.open(dec.weights)];
  try {
    const encoderNames = vaeEncoderParams(TINY_VAE).map((p) => p.name);
    assert.ok(encoderNames.includes('conv1.weight'));
    for (const name of encoderNames) assert.deepEqual(await afterDec.readF32(name), await before.readF32(name), `encoder tensor ${name} changed`);
    for (const p of vaeDecoderParams(wide)) assert.equal((await afterDec.readF32(p.name)).length, p.shape.reduce((a, b) => a * b, 1), p.name);
    assert.equal(dec.parameters, vaeDecoderParams(wide).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));
  } finally {
    await before.close();
    await afterDec.close();
  }
  // Same width: the decoder starts from the given one (its first loss is already low); no --init: a sentence.
  const same = await runVaeTraining({ clips, out: path.join(dir, 'dec-same'), init: straight.weights, settings: { ...settings, steps: 1, decoderOnly: true } });
  assert.ok((await readMetrics(same.run))[0]!.loss < m[0]!.loss * 0.9);
  await assert.rejects(runVaeTraining({ clips, out: path.join(dir, 'dec-none'), settings: { ...settings, decoderOnly: true } }), /decoder-only training needs the finished VAE whose encoder it keeps/);

  // The detail weight changes only how the error is weighted: the same first step from the same weights
  // has the same plain error and another loss; the run records it, a run without it does not.
  const detailed = await runVaeTraining({ clips, out: path.join(dir, 'dec-detail'), init: straight.weights, settings: { ...settings, steps: 1, decoderOnly: true, detailWeight: 5 } });
  const [d0, s0] = [(await readMetrics(detailed.run))[0]!, (await readMetrics(same.run))[0]!];
  const [dMse, sMse] = [d0.mse as number, s0.mse as number];
  assert.ok(Math.abs(dMse - sMse) <= 2e-6 * sMse, `plain error ${dMse} vs ${sMse}`);
  assert.ok(Math.abs(d0.loss - s0.loss) > 1e-3 * s0.loss, `weighted loss ${d0.loss} vs ${s0.loss}`);
  const recorded = async (run: string): Promise<Record<string, unknown>> => (await readRun(run))!.settings;
  assert.equal((await recorded(detailed.run)).detailWeight, 5);
  assert.equal('detailWeight' in (await recorded(same.run)), false);

  // Latent noise reaches the decoder: the same first step from the same weights reads a higher loss
  // with it, the loss still falls over the run, and the encoder stays bit-identical. Without
  // --decoder-only it is refused (the encoder would learn to drown it).
  // (The tiny decoder barely uses its latent after 6 steps, so the reaching check uses loud noise.)
  const loud = await runVaeTraining({ clips, out: path.join(dir, 'dec-loud'), init: straight.weights, settings: { ...settings, steps: 1, decoderOnly: true, latentNoise: 50 } });
  const [loudLoss, cleanLoss] = [(await readMetrics(loud.run))[0]!.loss, (await readMetrics(same.run))[0]!.loss];
  assert.ok(loudLoss > cleanLoss * 1.2, `noisy first loss ${loudLoss} vs clean ${cleanLoss}`);
  const noisy = await runVaeTraining({ clips, out: path.join(dir, 'dec-noise'), init: straight.weights, settings: { ...settings, decoderOnly: true, latentNoise: 2 } });
  const mn = await readMetrics(noisy.run);
  assert.ok((mn[4]!.loss + mn[5]!.loss) / 2 < (mn[0]!.loss + mn[1]!.loss) / 2, `noisy decoder loss should fall: ${mn.map((x) => x.loss).join(', ')}`);
  const [orig, noisyW] = [await SafetensorsFile.open(straight.weights), await SafetensorsFile.open(noisy.weights)];
  try {
    for (const p of vaeEncoderParams(TINY_VAE)) assert.deepEqual(await noisyW.readF32(p.name), await orig.readF32(p.name), `encoder tensor ${p.name} changed`);
  } finally {
    await orig.close();
    await noisyW.close();
  }
  await assert.rejects(runVaeTraining({ clips, out: path.join(dir, 'noise-full'), init: straight.weights, settings: { ...settings, latentNoise: 0.5 } }), /use it with --decoder-only/);
});

test('bad clip folders and options get a sentence', async () => {
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; }, isTTY: false };
  const run = async (values: Record<string, string>): Promise<{ code: number; result: { ok: boolean; error?: string } }> => {
    io.out = '';
    const code = await trainVaeCommand({ values, positionals: [], json: true, io, signal: new AbortController().signal });
    return { code, result: JSON.parse(io.out) as { ok: boolean; error?: string } };
  };
  const missing = await run({ clips: path.join(dir, 'nope'), out: path.join(dir, 'r1') });
  assert.equal(missing.code, 1);
  assert.match(missing.result.error!, /does not exist: make clips with `refree synth/);
  const empty = path.join(dir, 'empty');
  await mkdir(empty, { recursive: true });
  const none = await run({ clips: empty, out: path.join(dir, 'r2') });
  assert.match(none.result.error!, /holds no synthetic clips/);
  const spec = path.join(dir, 'nospec.json');
  await assert.rejects(trainVaeCommand({ values: { clips, out: path.join(dir, 'r3'), spec }, positionals: [], json: true, io, signal: new AbortController().signal }), /the spec .* does not exist/);
  await assert.rejects(trainVaeCommand({ values: { out: path.join(dir, 'r3') }, positionals: [], json: true, io, signal: new AbortController().signal }), /--clips <folder> is required/);
  await assert.rejects(trainVaeCommand({ values: { clips, out: path.join(dir, 'r4'), 'dec-dim': '0' }, positionals: [], json: true, io, signal: new AbortController().signal }), /--dec-dim must be at least 1/);
  await assert.rejects(trainVaeCommand({ values: { clips, out: path.join(dir, 'r4'), detail: '-1' }, positionals: [], json: true, io, signal: new AbortController().signal }), /--detail must be a number ≥ 0, got "-1"/);
  await assert.rejects(trainVaeCommand({ values: { clips, out: path.join(dir, 'r4'), 'dec-dim': 'wide' }, positionals: [], json: true, io, signal: new AbortController().signal }), /--dec-dim must be a whole number/);
});
