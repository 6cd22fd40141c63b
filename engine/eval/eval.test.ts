// engine/eval on real clips through real ffmpeg and real FaceMesh: a synthetic clip (engine/synth)
// measured against its own truth, the same clip with its speech shifted, a clip whose picture lags its
// sound by a known number of frames (sign convention), PSNR/SSIM, and the error sentences.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFrames } from '../media/video-reader.js';
import { VideoWriter } from '../media/video-writer.js';
import { writeClip } from '../synth/index.js';
import type { WrittenClip } from '../synth/index.js';
import { frameEnvelope } from './envelope.js';
import { EvalError } from './errors.js';
import { compareVideos, evaluateVideo } from './evaluate.js';
import { PSNR_CAP, motionThreshold, pairMotion, psnr, ssim } from './quality.js';
import { separate } from './calibrate.js';
import { circularShift, syncSearch } from './sync.js';
import { fillGaps, pearson } from './stats.js';
import { writeTalkingClip } from './test-clip.js';

let dir = '';
let clipA: WrittenClip;
let clipB: WrittenClip;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'refree-eval-'));
  clipA = await writeClip(dir, 'a', { seed: 11, split: 'train', seconds: 4, size: 256 });
  clipB = await writeClip(dir, 'b', { seed: 12, split: 'heldout', seconds: 4, size: 256 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('syncSearch finds a known lag with the documented sign; circularShift rotates', () => {
  const n = 90;
  const env = Array.from({ length: n }, (_, i) => Math.max(0, Math.sin(i * 0.7) + 0.5 * Math.sin(i * 0.23 + 1)));
  // The mouth moves 4 frames after the sound: the video lags → offset +4.
  const mouth = Array.from({ length: n }, (_, i) => env[Math.max(0, i - 4)]!);
  const s = syncSearch(mouth, env, 15);
  assert.equal(s.offset, 4);
  assert.ok(s.distance < 0.01 && s.confidence > 0.5, JSON.stringify(s));
  assert.equal(syncSearch(env, mouth, 15).offset, -4);
  assert.deepEqual(Array.from(circularShift([1, 2, 3, 4], 1)), [4, 1, 2, 3]);
});

test('fillGaps interpolates short gaps only; pearson skips missing values', () => {
  const g = fillGaps([1, NaN, 3, NaN, NaN, NaN, 7], 2);
  assert.deepEqual(Array.from(g.values).map((v) => (Number.isNaN(v) ? null : v)), [1, 2, 3, null, null, null, 7]);
  assert.equal(g.filled, 1);
  assert.equal(pearson([1, 2, NaN, 4], [2, 4, 100, 8]), 1);
});

test('separate: the middle of the gap when true and shifted do not overlap, else the best balanced accuracy', () => {
  assert.deepEqual(separate([0.6, 0.8], [0.2, 0.4]), { threshold: 0.5, accuracy: 1, margin: 0.19999999999999996 });
  const o = separate([0.3, 0.7, 0.9], [0.2, 0.4, 0.5]);
  assert.equal(o.accuracy, (2 / 3 + 1) / 2);
  assert.ok(o.threshold! > 0.5 && o.threshold! < 0.7 && o.margin! < 0);
  assert.deepEqual(separate([], [0.1]), { threshold: null, accuracy: null, margin: null });
});

test('PSNR is capped for identical frames and falls with noise; SSIM is 1 for identical frames', () => {
  const w = 32;
  const a = Uint8Array.from({ length: w * w }, (_, i) => (i * 37) % 256);
  const b = Uint8Array.from(a, (v, i) => Math.min(255, v + (i % 3)));
  assert.equal(psnr(a, a), PSNR_CAP);
  assert.ok(psnr(a, b) < 50 && psnr(a, b) > 40, String(psnr(a, b)));
  assert.ok(Math.abs(ssim(a, a, w, w) - 1) < 1e-12);
  assert.ok(ssim(a, b, w, w) < 1);
});

test('block matching reads a known shift of a texture, and nothing for a still frame', () => {
  const w = 96;
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 256;
  const a = Uint8Array.from({ length: w * w }, rand);
  // b is a moved 3 px right and 2 px down.
  const b = Uint8Array.from({ length: w * w }, (_, i) => a[Math.max(0, Math.floor(i / w) - 2) * w + Math.max(0, (i % w) - 3)]!);
  const region = { x: 16, y: 16, width: 64, height: 64 };
  const m = pairMotion(a, b, w, w, region);
  assert.ok(Math.abs(m.meanFlow - Math.hypot(3, 2)) < 1e-9 && Math.abs(m.top5Flow - Math.hypot(3, 2)) < 1e-9, JSON.stringify(m));
  assert.ok(m.meanAbsDiff > 50);
  assert.deepEqual(pairMotion(a, a, w, w, region), { meanAbsDiff: 0, meanFlow: 0, top5Flow: 0 });
  assert.equal(motionThreshold(480, 480), 11.25); // VBench's 6 px × 480/256
});

test('a synthetic clip against its own truth: offset 0 ± 1, confident, shifted speech scores clearly lower', async (t0) => {
  const r = await evaluateVideo(clipA.video, { truth: clipA.truthFile, series: true });
  assert.equal(r.faces.found, r.video.frames, 'FaceMesh finds the avatar in every frame');
  assert.ok(Math.abs(r.sync.offset) <= 1, `best offset ${r.sync.offset}`);
  assert.ok(r.sync.confidence! > 0.45 && r.sync.inSync === true, `confidence ${r.sync.confidence}`);
  const t = r.truth!;
  assert.ok(t.mouth.combined! > 0.85, `mouth r ${t.mouth.combined}`);
  // Head and brow motion is small (head about 1–2°): these check the sign and that they follow at all.
  assert.ok(t.head.roll.r! > 0.2 && t.brow.r! > 0.2 && t.blink.r! > 0.5, JSON.stringify({ roll: t.head.roll, brow: t.brow, blink: t.blink }));
  // The video is its own truth video: PSNR at the cap, SSIM 1, on the first frame too.
  assert.equal(t.video, clipA.video);
  assert.equal(t.psnr!.mean, PSNR_CAP);
  assert.equal(t.psnr!.firstFrame, PSNR_CAP);
  assert.equal(t.ssim!.min, 1);
  assert.ok(r.motion.pairs! > 0 && r.motion.meanFlow !== null && r.motion.meanAbsDiff! > 0);
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));

  // The same clip with its speech rotated by half its length (2 s), from the report's own series.
  const mouth = r.series!.mouth.map((v) => v ?? NaN);
  const envelope = r.series!.envelope.map((v) => v ?? NaN);
  const shifted = syncSearch(mouth, circularShift(envelope, Math.floor(envelope.length / 2)), 15);
  t0.diagnostic(`offset ${r.sync.offset}, confidence ${r.sync.confidence} (shifted ${shifted.confidence.toFixed(4)}), mouth r ${t.mouth.combined}, yaw/pitch/roll r ${t.head.yaw.r}/${t.head.pitch.r}/${t.head.roll.r}, brow ${t.brow.r}, blink ${t.blink.r}`);
  assert.ok(r.sync.confidence! - shifted.confidence > 0.15, `true ${r.sync.confidence} vs shifted ${shifted.confidence}`);
  // Our envelope (first-formant band) and the truth's (broadband) agree on when the speech is loud.
  assert.ok(pearson(envelope, clipA.truth.perFrame.envelope) > 0.5, `envelope r ${pearson(envelope, clipA.truth.perFrame.envelope)}`);
  assert.deepEqual(Array.from(frameEnvelope(new Float32Array(0), 16000, 15, 3)), [0, 0, 0], 'no audio → silent frames');
});

test('PSNR/SSIM against another clip are far lower', async () => {
  const c = await compareVideos(clipA.video, clipB.video);
  assert.equal(c.frames, clipA.truth.frames);
  const mean = c.psnr.reduce((x, y) => x + y, 0) / c.frames;
  assert.ok(mean < 30, `PSNR ${mean}`);
  assert.ok(c.ssim.every((s) => s < 0.95), `SSIM ${Math.max(...c.ssim)}`);
  assert.equal(c.resized, false);
  // The same clip rendered at another size is scaled to the reference's size and compares well.
  const small = await writeClip(dir, 'a-small', { seed: 11, split: 'train', seconds: 4, size: 128 });
  const s = await compareVideos(small.video, clipA.video);
  const smallMean = s.psnr.reduce((x, y) => x + y, 0) / s.frames;
  assert.equal(s.resized, true);
  assert.ok(smallMean > 25 && smallMean > mean + 5, `PSNR of the 128² render against the 256² one: ${smallMean} (other clip ${mean})`);
});

test('a picture that lags its sound by 3 frames reads offset +3', async () => {
  const clip = await writeTalkingClip(path.join(dir, 'lag.mp4'), { seed: 3, seconds: 4, lagFrames: 3 });
  const r = await evaluateVideo(clip.file);
  assert.ok(r.sync.offset >= 2 && r.sync.offset <= 4, `offset ${r.sync.offset}`);
  assert.ok(r.sync.offsetSeconds! > 0);
});

test('errors: missing file, a video without sound, a video without a face, a bad truth file', async () => {
  await assert.rejects(evaluateVideo(path.join(dir, 'missing.mp4')), /cannot read video .*missing\.mp4: no such file/);
  const mute = await writeTalkingClip(path.join(dir, 'mute.mp4'), { seconds: 1, silentTrack: true });
  await assert.rejects(evaluateVideo(mute.file), (e: Error) => e instanceof EvalError && e.code === 'no-audio' && /mute\.mp4 has no sound track/.test(e.message));
  const grey = path.join(dir, 'grey.mp4');
  const w = await VideoWriter.open({ output: grey, width: 64, height: 64, fps: 15, audio: { kind: 'pcm', samples: Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i * 0.1)), sampleRate: 16000 } });
  for (let i = 0; i < 15; i++) await w.writeFrame(new Uint8Array(64 * 64 * 3).fill(128));
  await w.finish();
  await assert.rejects(evaluateVideo(grey), (e: Error) => e instanceof EvalError && e.code === 'no-face' && /no face found in any of the 15 frames of .*grey\.mp4/.test(e.message));
  // The face in only 5 of 15 frames: too few for a correlation to mean anything.
  const few = path.join(dir, 'few-faces.mp4');
  const wf = await VideoWriter.open({ output: few, width: 256, height: 256, fps: 15, audio: { kind: 'pcm', samples: Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i * 0.1)), sampleRate: 16000 } });
  let i = 0;
  for await (const f of readFrames(clipA.video, { pixelFormat: 'rgb24' })) {
    if (i >= 15) break;
    await wf.writeFrame(i % 3 === 0 ? f.data : new Uint8Array(f.data.length).fill(128));
    i++;
  }
  await wf.finish();
  await assert.rejects(evaluateVideo(few), (e: Error) => e instanceof EvalError && e.code === 'few-faces' && /a face was found in only 5 of the 15 frames of .*few-faces\.mp4/.test(e.message));
  await assert.rejects(evaluateVideo(clipA.video, { truth: clipA.video }), /is not valid JSON/);
});
