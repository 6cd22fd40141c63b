// Clip preparation end to end with real parts: clips encoded by ffmpeg, BlazeFace and FaceMesh, the
// tiny-random package's VAE run by onnxruntime, files on disk. One folder holds a usable clip and every kind of
// bad clip; each bad one must be refused with its reason while the good one is prepared.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { CancelledError } from '../../common/engine-errors.js';
import { ASSETS_DEMO_DIR } from '../../pipeline/demo-model.js';
import { readRandomSpec, tinyRandomPackage } from '../../pipeline/testing/random-package.js';
import { writeClip } from '../../synth/clip.js';
import type { ClipTruth } from '../../synth/types.js';
import type { ClipInfo, PrepareEvent } from './index.js';
import { DATASET_FILE, PrepareError, loadPreparedClip, prepareDataset, readDataset } from './index.js';
import { AVATAR_MOUTH, avatarOffset, writeNotAVideo, writeTestClip } from './test-clips.test-helper.js';

let tmp: string;
let model: string;
const oldCache = process.env.REFREE_CACHE_DIR;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'refree-prepare-'));
  process.env.REFREE_CACHE_DIR = path.join(tmp, 'refree-cache');
  model = await tinyRandomPackage();
});

after(async () => {
  if (oldCache === undefined) delete process.env.REFREE_CACHE_DIR;
  else process.env.REFREE_CACHE_DIR = oldCache;
  await rm(tmp, { recursive: true, force: true });
});

/** The latent cell (x, y) with the largest total mask over all latent frames. */
function argmaxCell(mask: Float32Array, F: number, h: number, w: number): { x: number; y: number } {
  const sum = new Float64Array(h * w);
  for (let f = 0; f < F; f++) for (let i = 0; i < h * w; i++) sum[i]! += mask[f * h * w + i]!;
  let best = 0;
  for (let i = 1; i < h * w; i++) if (sum[i]! > sum[best]!) best = i;
  return { x: best % w, y: Math.floor(best / w) };
}

/** Where the avatar's mouth is in the latent grid of a prepared clip (its crop is fixed: nearly static clip). */
function expectedMouthCell(info: ClipInfo, spatial: number, width?: number): { x: number; y: number } {
  const o = avatarOffset(0, width ? { width } : {});
  const box = info.track.first;
  const k = info.size / box.size;
  return { x: Math.floor(((o.x + AVATAR_MOUTH.x - box.x) * k) / spatial), y: Math.floor(((o.y + AVATAR_MOUTH.y - box.y) * k) / spatial) };
}

/** Where the truth's lips of frame 0 are in the latent grid of a prepared (square-source) clip. */
function truthMouthCell(truth: ClipTruth, info: ClipInfo, spatial: number): { x: number; y: number } {
  const e = truth.perFrame.lips[0]!;
  const box = info.track.first;
  const k = info.size / box.size;
  return { x: Math.floor(((e.cx - box.x) * k) / spatial), y: Math.floor(((e.cy - box.y) * k) / spatial) };
}

describe('train prepare', () => {
  test('prepares a real clip and refuses the ones without a face, speech, length, sound track or video', async () => {
    const clips = path.join(tmp, 'clips');
    await mkdir(clips);
    // A synthetic avatar clip without its truth file: it goes the landmark path, as a real clip does.
    const synth = await writeClip(clips, 'avatar', { seed: 3, split: 'train', seconds: 1.4, size: 256 });
    await rm(synth.truthFile);
    await writeTestClip(path.join(clips, 'talk.mp4'), 'face', 23);
    await writeTestClip(path.join(clips, 'noise.mp4'), 'no-face', 30);
    await writeTestClip(path.join(clips, 'mute.mp4'), 'silent', 30);
    await writeTestClip(path.join(clips, 'blink.mp4'), 'face', 10);
    await writeTestClip(path.join(clips, 'nosound.mov'), 'no-audio', 30);
    await writeNotAVideo(path.join(clips, 'notes.mkv'));
    await copyFile(path.join(ASSETS_DEMO_DIR, 'speech.wav'), path.join(clips, 'voice.mp4'));
    await writeFile(path.join(clips, 'readme.txt'), 'not a clip');

    const events: PrepareEvent[] = [];
    const r = await prepareDataset({ input: clips, model, onEvent: (e) => events.push(e) });
    const byId = new Map(r.manifest.clips.map((c) => [c.id, c]));
    assert.deepEqual([...byId.keys()].sort(), ['avatar', 'blink', 'mute', 'noise', 'nosound', 'notes', 'talk', 'voice']);
    assert.equal(r.accepted, 2, JSON.stringify(r.manifest.clips));
    assert.equal(r.refused, 6);
    assert.equal(byId.get('talk')!.status, 'accepted');
    assert.equal(byId.get('avatar')!.status, 'accepted');
    assert.match(byId.get('noise')!.reason!, /no face found in .*noise\.mp4: a face was detected in 0 of \d+ sampled frames/);
    assert.match(byId.get('mute')!.reason!, /mute\.mp4 has no speech: its sound track is silent/);
    assert.match(byId.get('blink')!.reason!, /blink\.mp4 is too short: 10 frames \(0\.67 s\) at 15 fps; at least 17 frames/);
    assert.match(byId.get('nosound')!.reason!, /nosound\.mov has no sound track/);
    assert.match(byId.get('notes')!.reason!, /notes\.mkv is not a video ffmpeg can read/);
    assert.match(byId.get('voice')!.reason!, /voice\.mp4 has no video stream/);

    // The manifest on disk says the same, with the model's hash and the cache key.
    const onDisk = await readDataset(clips);
    assert.equal(onDisk.format, 'refree-dataset/1');
    assert.equal(onDisk.model.hash, r.manifest.model.hash);
    assert.equal(onDisk.cache, path.join('cache', r.manifest.model.hash.slice(0, 12)));
    assert.equal(onDisk.size, 128);

    // Shapes: 23 frames → the longest 4n+1 prefix is 21 → 6 latent frames of 16 × 8 × 8.
    const talk = byId.get('talk')!;
    assert.equal(talk.frames, 21);
    assert.equal(talk.latentFrames, 6);
    const p = await loadPreparedClip(clips, 'talk', r.manifest.model.hash);
    assert.deepEqual(p.latentShape, [16, 6, 8, 8]);
    assert.equal(p.latents.length, 16 * 6 * 64);
    assert.ok(p.latents.every(Number.isFinite));
    assert.ok(p.latents.some((v) => v !== 0));
    assert.equal(p.speechDim, 40);
    assert.equal(p.speech.length, 21 * 40);
    assert.equal(p.lipMask.length, 6 * 64);
    assert.equal(p.faceMask.length, 6 * 64);
    assert.equal(p.info.masks.source, 'landmarks');
    assert.equal(p.info.masks.landmarkFrames, 21);
    assert.equal(p.info.track.mode, 'fixed', 'a 3-pixel sway is a nearly static clip');

    // Every latent frame has lips and a face; the lips sit at the avatar's mouth, inside the face.
    const hw = 64;
    for (let f = 0; f < 6; f++) {
      assert.ok(p.lipMask.subarray(f * hw, (f + 1) * hw).some((v) => v > 0), `latent frame ${f} has a lip mask`);
      assert.ok(p.faceMask.subarray(f * hw, (f + 1) * hw).some((v) => v > 0.5), `latent frame ${f} has a face mask`);
    }
    const lip = argmaxCell(p.lipMask, 6, 8, 8);
    const want = expectedMouthCell(p.info, 16);
    assert.ok(Math.abs(lip.x - want.x) <= 1 && Math.abs(lip.y - want.y) <= 1, `lip mask peak at cell ${JSON.stringify(lip)}, mouth at ${JSON.stringify(want)}`);
    let inFace = 0;
    let lipTotal = 0;
    for (let i = 0; i < p.lipMask.length; i++) {
      lipTotal += p.lipMask[i]!;
      if (p.faceMask[i]! > 0) inFace += p.lipMask[i]!;
    }
    assert.ok(inFace / lipTotal > 0.95, `lips inside the face: ${inFace / lipTotal}`);
    assert.ok(p.info.masks.lipMean < p.info.masks.faceMean);

    // The synthetic avatar: landmark lips where its truth says the mouth is.
    const a = await loadPreparedClip(clips, 'avatar', r.manifest.model.hash);
    assert.equal(a.info.masks.source, 'landmarks');
    assert.deepEqual(a.latentShape, [16, 6, 8, 8]);
    const aLip = argmaxCell(a.lipMask, 6, 8, 8);
    const aWant = truthMouthCell(synth.truth, a.info, 16);
    assert.ok(Math.abs(aLip.x - aWant.x) <= 1 && Math.abs(aLip.y - aWant.y) <= 1, `avatar lip mask peak at ${JSON.stringify(aLip)}, truth mouth at ${JSON.stringify(aWant)}`);

    // The reference portrait: a 128² PNG.
    const ref = await sharp(path.join(clips, r.manifest.cache, 'talk', 'ref.png')).metadata();
    assert.equal(ref.width, 128);
    assert.equal(ref.height, 128);

    // Progress: per clip, per stage, with an ETA once work is done; the last one at 100 %.
    const prog = events.filter((e): e is Extract<PrepareEvent, { type: 'progress' }> => e.type === 'progress');
    assert.ok(prog.length > 10);
    assert.ok(prog.some((e) => e.etaS !== null && e.etaS > 0));
    assert.ok(new Set(events.filter((e) => e.type === 'stage').map((e) => (e as { stage: string }).stage)).has('encode'));
    assert.equal(events.filter((e) => e.type === 'clip-done').length, 8);

    // A second run takes everything from the cache and leaves the files alone.
    const dataFile = path.join(clips, r.manifest.cache, 'talk', 'data.safetensors');
    const before = (await stat(dataFile)).mtimeMs;
    // A clip folder half-written by a process that died is cleared away.
    const ghost = path.join(clips, r.manifest.cache, 'talk.tmp-999999');
    await mkdir(ghost);
    const again: PrepareEvent[] = [];
    const r2 = await prepareDataset({ input: clips, model, onEvent: (e) => again.push(e) });
    assert.equal(r2.cached, 8);
    assert.equal(r2.accepted, 2);
    assert.equal((await stat(dataFile)).mtimeMs, before);
    assert.ok(again.filter((e) => e.type === 'clip-done').every((e) => (e as { cached: boolean }).cached));
    assert.ok(!again.some((e) => e.type === 'stage'), 'no clip was worked on again');
    await assert.rejects(stat(ghost), /ENOENT/);

    // Another model prepares into its own cache beside the first; the first stays.
    const { spec } = await readRandomSpec();
    const specFile = path.join(tmp, 'other-spec.json');
    await writeFile(specFile, JSON.stringify({ ...spec, name: 'other-mini', seeds: { ...spec.seeds, vae: 7 } }));
    const other = await tinyRandomPackage({ root: path.join(tmp, 'models'), specFile });
    const r3 = await prepareDataset({ input: clips, model: other });
    assert.notEqual(r3.manifest.model.hash, r.manifest.model.hash);
    assert.notEqual(r3.manifest.cache, r.manifest.cache);
    assert.equal(r3.accepted, 2);
    assert.equal(r3.cached, 6, 'refusals do not depend on the model; the accepted clips are prepared again');
    const q = await loadPreparedClip(clips, 'talk', r3.manifest.model.hash);
    assert.notDeepEqual(q.latents, p.latents, 'another VAE gives other latents');
    assert.deepEqual(q.speech, p.speech, 'same front-end, same speech features');
    assert.deepEqual((await readdir(path.join(clips, 'cache'))).sort(), [r.manifest.cache, r3.manifest.cache].map((c) => path.basename(c)).sort());
    await assert.rejects(loadPreparedClip(clips, 'noise', r.manifest.model.hash), /clip "noise" has no prepared cache for model/);
  });

  test('a synthetic clip takes its masks from the truth beside it', async () => {
    const clips = path.join(tmp, 'synth');
    const w = await writeClip(clips, 'avatar', { seed: 4, split: 'train', seconds: 1.4, size: 192 });
    const r = await prepareDataset({ input: clips, model, out: path.join(tmp, 'synth-out') });
    assert.equal(r.accepted, 1, JSON.stringify(r.manifest.clips));
    const p = await loadPreparedClip(path.join(tmp, 'synth-out'), 'avatar', r.manifest.model.hash);
    assert.equal(p.info.masks.source, 'truth');
    assert.equal(p.info.masks.truthFile, w.truthFile);
    assert.deepEqual(p.latentShape, [16, 6, 8, 8]);
    const lip = argmaxCell(p.lipMask, 6, 8, 8);
    const want = truthMouthCell(w.truth, p.info, 16);
    assert.ok(Math.abs(lip.x - want.x) <= 1 && Math.abs(lip.y - want.y) <= 1, `lip mask peak at ${JSON.stringify(lip)}, truth mouth at ${JSON.stringify(want)}`);
    // The face mask's mean is close to the truth's face ellipse area share (max over 4 frames makes it a little larger).
    const k = 128 / p.info.track.cropSize;
    const f0 = w.truth.perFrame.face[0]!;
    const share = (Math.PI * f0.rx * f0.ry * k * k) / (128 * 128);
    assert.ok(p.info.masks.faceMean > share * 0.8 && p.info.masks.faceMean < share * 1.4, `face mask mean ${p.info.masks.faceMean}, ellipse share ${share}`);
    // The dataset went to --out; nothing was written into the clips folder.
    assert.deepEqual((await readdir(clips)).sort(), ['avatar.json', 'avatar.mp4']);
    assert.ok((await stat(path.join(tmp, 'synth-out', DATASET_FILE))).isFile());
  });

  test('folder errors are clear sentences and write nothing', async () => {
    const missing = path.join(tmp, 'nope');
    await assert.rejects(prepareDataset({ input: missing, model }), (e: unknown) => e instanceof PrepareError && /the clips folder .*nope does not exist/.test((e as Error).message));
    const empty = path.join(tmp, 'empty');
    await mkdir(empty);
    await writeFile(path.join(empty, 'notes.txt'), 'no videos here');
    await assert.rejects(prepareDataset({ input: empty, model }), (e: unknown) => e instanceof PrepareError && /holds no video files \(\.mp4, \.mov/.test((e as Error).message));
    assert.deepEqual(await readdir(empty), ['notes.txt']);
    const file = path.join(tmp, 'a-file.mp4');
    await writeFile(file, 'x');
    await assert.rejects(prepareDataset({ input: file, model }), /a-file\.mp4 is a file, not a folder/);
    await assert.rejects(prepareDataset({ input: empty, model, out: path.join(tmp, 'never') }), PrepareError);
    await assert.rejects(stat(path.join(tmp, 'never')), /ENOENT/);
    await assert.rejects(stat(missing), /ENOENT/);
    // A model folder that is not there.
    const one = path.join(tmp, 'one');
    await mkdir(one);
    await writeNotAVideo(path.join(one, 'x.mp4'));
    await assert.rejects(prepareDataset({ input: one, model: path.join(tmp, 'no-model') }), /the model package .*no-model does not exist/);
    assert.deepEqual(await readdir(one), ['x.mp4']);
  });

  test('cancelling stops within the clip and writes no manifest', async () => {
    const clips = path.join(tmp, 'cancel');
    await mkdir(clips);
    await writeTestClip(path.join(clips, 'talk.mp4'), 'face', 30);
    const ac = new AbortController();
    await assert.rejects(
      prepareDataset({ input: clips, model, signal: ac.signal, onEvent: (e) => e.type === 'stage' && e.stage === 'encode' && ac.abort() }),
      (e: unknown) => e instanceof CancelledError,
    );
    assert.deepEqual(await readdir(clips), ['talk.mp4']);
    const text = await readFile(path.join(clips, 'talk.mp4'));
    assert.ok(text.length > 0);
  });
});
