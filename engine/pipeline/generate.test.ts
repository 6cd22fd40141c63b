// The generation pipeline end to end with the tiny-random package (fast; any package would do) on short
// clips: reproducibility, cancel + resume, and bad inputs (clear message, nothing left behind).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CancelledError } from '../common/engine-errors.js';
import { MediaError } from '../media/errors.js';
import { partialPath } from '../media/video-writer.js';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import type { GenerateEvent, GenerateOptions } from './generate.js';
import { generateVideo } from './generate.js';
import { SafetensorsFile } from '../model/weights/safetensors.js';
import { chunkFile, jobDir } from './job-files.js';
import { tinyRandomPackage } from './testing/random-package.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const AVATAR = path.join(ROOT, 'assets', 'demo', 'avatar.png');
const SPEECH = path.join(ROOT, 'assets', 'demo', 'speech.wav');
let tmp = '';
let model = '';

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-gen-test-'));
  process.env.REFREE_CACHE_DIR = path.join(tmp, 'cache');
  model = await tinyRandomPackage();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A short clip: 1.6 s of the demo speech → 24 frames, 7 latent frames; chunks of 4 with 1 motion frame → 2 chunks (0–3, 3–6). */
const short = (out: string, extra: Partial<GenerateOptions> = {}): GenerateOptions => ({ model, portrait: AVATAR, audio: SPEECH, end: 1.6, out: path.join(tmp, out), chunkLatentFrames: 4, motionLatentFrames: 1, steps: 3, ...extra });

function leftovers(out: string): string[] {
  return readdirSync(path.dirname(out)).filter((f) => f.startsWith(path.basename(out).replace(/\.mp4$/, '')));
}

test('same seed → identical frames; another seed → different frames; previews and progress arrive', async () => {
  const events: GenerateEvent[] = [];
  const a = await generateVideo(short('a.mp4', { seed: 7 }), { onEvent: (e) => events.push(e) });
  const b = await generateVideo(short('b.mp4', { seed: 7 }));
  const c = await generateVideo(short('c.mp4', { seed: 8 }));
  assert.equal(a.frames, 24);
  assert.equal(a.chunks, 2);
  assert.equal(a.frameDigest, b.frameDigest);
  assert.notEqual(a.frameDigest, c.frameDigest);
  assert.equal(a.payload, b.payload, 'the job id (and so the payload) is derived from the inputs and settings');
  const previews = events.filter((e) => e.type === 'preview');
  assert.ok(previews.length >= 3);
  const p = previews[0] as Extract<GenerateEvent, { type: 'preview' }>;
  assert.equal(p.rgb.length, p.width * p.height * 3);
  const prog = events.filter((e) => e.type === 'progress') as Extract<GenerateEvent, { type: 'progress' }>[];
  assert.equal(prog.at(-1)!.fraction, 1);
  assert.ok(prog.some((e) => e.etaS !== null && e.etaS > 0));
  // Success leaves the video and its sidecar, no job folder and no partial file.
  assert.ok(existsSync(a.sidecar));
  assert.ok(!existsSync(jobDir(a.output)));
  assert.ok(!existsSync(partialPath(a.output)));
});

test('cancel after the first chunk: no video, checkpoints kept; resume gives the same frames as an uninterrupted run', async () => {
  const ref = await generateVideo(short('ref.mp4', { seed: 3 }));
  const opts = short('cancel.mp4', { seed: 3 });
  const ac = new AbortController();
  await assert.rejects(
    generateVideo(opts, { signal: ac.signal, onEvent: (e) => e.type === 'chunk' && e.index === 1 && ac.abort() }),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.ok(!existsSync(opts.out));
  assert.ok(!existsSync(partialPath(opts.out)));
  assert.ok(existsSync(path.join(jobDir(opts.out), 'chunk-0.safetensors')));
  const r = await generateVideo({ ...opts, resume: true });
  assert.equal(r.resumedChunks, 1);
  assert.equal(r.frameDigest, ref.frameDigest);
});

/** Latent frame f of a saved chunk [C, F, h, w], and the shape. */
async function chunkFrame(dir: string, i: number, f: number): Promise<{ frame: number[]; shape: number[] }> {
  const st = await SafetensorsFile.open(chunkFile(dir, i));
  try {
    const shape = [...st.info('latents').shape];
    const [C, F, h, w] = shape as [number, number, number, number];
    const lat = await st.readF32('latents');
    const frame: number[] = [];
    for (let c = 0; c < C; c++) frame.push(...lat.subarray((c * F + f) * h * w, (c * F + f + 1) * h * w));
    return { frame, shape };
  } finally {
    await st.close();
  }
}

test('with the portrait anchor, later chunks start from the portrait latent and the motion frame; the first chunk is unchanged', async () => {
  const plain = await generateVideo(short('plain.mp4', { seed: 5 }));
  const opts = short('anchor.mp4', { seed: 5, portraitAnchor: true });
  // Stop before the last chunk so the checkpoints of chunks 0 and 1 stay to be read.
  const ac = new AbortController();
  await assert.rejects(generateVideo(opts, { signal: ac.signal, onEvent: (e) => e.type === 'chunk' && e.index === 2 && ac.abort() }), (e: unknown) => e instanceof CancelledError);
  const dir = jobDir(opts.out);
  const portrait = await chunkFrame(dir, 0, 0);
  const anchor = await chunkFrame(dir, 1, 0);
  const motion = await chunkFrame(dir, 1, 1);
  assert.deepEqual(anchor.frame, portrait.frame, "chunk 1's frame 0 is the portrait latent");
  // 7 latent frames in chunks of 4: 0–3, then 2–5 (anchor, motion = frame 3), then 4–7.
  assert.deepEqual(motion.frame, (await chunkFrame(dir, 0, 3)).frame, "chunk 1's frame 1 is chunk 0's last");
  const first = await Promise.all([0, 1, 2, 3].map(async (f) => (await chunkFrame(dir, 0, f)).frame));
  const r = await generateVideo({ ...opts, resume: true });
  assert.equal(r.frames, plain.frames);
  assert.equal(r.chunks, 3, 'one chunk more than without the anchor (2): each later chunk gives one frame to the anchor');
  assert.notEqual(r.frameDigest, plain.frameDigest);
  // The first chunk is sampled exactly as without the anchor: chunk 0 of a fresh plain run is the same.
  const again = short('plain-again.mp4', { seed: 5 });
  const stop = new AbortController();
  await assert.rejects(generateVideo(again, { signal: stop.signal, onEvent: (e) => e.type === 'chunk' && e.index === 1 && stop.abort() }), (e: unknown) => e instanceof CancelledError);
  for (let f = 0; f < 4; f++) assert.deepEqual((await chunkFrame(jobDir(again.out), 0, f)).frame, first[f]);
});

test('bad inputs: a clear message each, and nothing left behind', async () => {
  const ff = ffmpegPath();
  const inputs = path.join(tmp, 'inputs');
  mkdirSync(inputs);
  const text = path.join(inputs, 'notes.png');
  writeFileSync(text, 'this is not a picture');
  const video = path.join(inputs, 'clip.mp4');
  execFileSync(ff, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', '-y', video]);
  const empty = path.join(inputs, 'empty.wav');
  writeFileSync(empty, '');
  const headerOnly = path.join(inputs, 'header-only.wav');
  execFileSync(ff, ['-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-frames:a', '0', '-y', headerOnly]);
  const cases: [string, Partial<GenerateOptions>, RegExp][] = [
    ['not-image.mp4', { portrait: text }, /notes\.png is not an image/],
    ['video-portrait.mp4', { portrait: video }, /that is a video; give a still image/],
    ['empty-audio.mp4', { audio: empty }, /empty \(0 bytes\)/],
    ['header-only.mp4', { audio: headerOnly }, /contains no audio in the chosen range \(zero length\)/],
    ['too-long.mp4', { end: undefined, maxSpeechSeconds: 3 }, /more than the limit of 3 s/],
    ['bad-steps.mp4', { steps: 0 }, /steps must be a whole number/],
  ];
  for (const [out, over, re] of cases) {
    const o = short(out, over);
    await assert.rejects(generateVideo(o), re, out);
    assert.deepEqual(leftovers(o.out), [], `${out}: nothing left behind`);
  }
  await assert.rejects(generateVideo(short(path.join('no-such-folder', 'x.mp4'))), /folder .* does not exist/);
  writeFileSync(path.join(tmp, 'afile'), 'x');
  await assert.rejects(generateVideo(short(path.join('afile', 'x.mp4'))), /cannot write .*(not a folder|is a file)/);
});

test('silent speech warns and still generates', async () => {
  const silent = path.join(tmp, 'silent.wav');
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '1', '-y', silent]);
  const warnings: string[] = [];
  const r = await generateVideo(short('silent.mp4', { audio: silent, end: undefined }), { onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  assert.ok(warnings.some((w) => /silent/.test(w)), warnings.join('; '));
  assert.equal(r.frames, 15);
  assert.ok(existsSync(r.output));
});

test('the disk filling during the write: "the disk is full", no partial video, finished chunks kept', async (t) => {
  const m = mkdtempSync(path.join(os.tmpdir(), 'refree-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', m]).status !== 0) {
    rmSync(m, { recursive: true, force: true });
    return t.skip('cannot mount a small tmpfs here (needs root)');
  }
  try {
    // The whole demo speech: about 100 frames of noise at 256×256 is far more than 200 KB.
    const out = path.join(m, 'full.mp4');
    await assert.rejects(
      generateVideo({ model, portrait: AVATAR, audio: SPEECH, out }),
      (e: unknown) => e instanceof MediaError && e.code === 'disk-full' && /the disk is full while writing .*full\.mp4/.test(e.message),
    );
    assert.ok(!existsSync(out));
    assert.ok(!existsSync(partialPath(out)));
    assert.ok(existsSync(path.join(jobDir(out), 'chunk-0.safetensors')), 'finished chunks stay for --resume');
  } finally {
    spawnSync('umount', [m]);
    rmSync(m, { recursive: true, force: true });
  }
});
