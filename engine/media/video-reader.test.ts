// Reading frames through ffmpeg: sizes, formats, scaling, partial reads, early stops, and the
// errors a user sees for files that are not videos.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import { encodeFrames } from '../watermark/test-clips.js';
import { probeVideo, readFrames, VideoReadError } from './video-reader.js';

const W = 64;
const H = 48;
const N = 30;
let dir = '';
let video = '';
/** Frame i is a flat grey of level 20 + 7·i (so each frame can be recognised after decoding). */
const level = (i: number) => 20 + 7 * i;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'refree-vr-'));
  video = path.join(dir, 'levels.mp4');
  const frames = Array.from({ length: N }, (_, i) => new Uint8Array(W * H * 3).fill(level(i)));
  await encodeFrames(frames, W, H, video, { crf: 0, fps: 15 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Command lines of every process, read from /proc (no `ps`: minimal systems lack procps). */
function processCommandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' '));
    } catch {
      /* the process ended meanwhile */
    }
  }
  return out;
}

async function collect(gen: AsyncGenerator<{ index: number; data: Uint8Array; width: number; height: number }>) {
  const out = [];
  for await (const f of gen) out.push(f);
  return out;
}

test('probeVideo reports size, rate, frame count, duration and codec', async () => {
  const info = await probeVideo(video);
  assert.equal(info.width, W);
  assert.equal(info.height, H);
  assert.equal(info.fps, 15);
  assert.equal(info.frameCount, N);
  assert.ok(Math.abs(info.durationS! - 2) < 0.1, String(info.durationS));
  assert.equal(info.codec, 'h264');
});

test('frames stream in order as RGB or grey, at the video size or scaled', async () => {
  const rgb = await collect(readFrames(video));
  assert.equal(rgb.length, N);
  rgb.forEach((f, i) => {
    assert.equal(f.index, i);
    assert.equal(f.data.length, W * H * 3);
    assert.ok(Math.abs(f.data[100]! - level(i)) <= 2, `frame ${i}: ${f.data[100]} vs ${level(i)}`);
  });
  // Every frame has its own buffer (a consumer may keep them).
  assert.notEqual(rgb[0]!.data.buffer, rgb[1]!.data.buffer);
  const grey = await collect(readFrames(video, { pixelFormat: 'gray', width: 16, height: 12 }));
  assert.equal(grey.length, N);
  assert.equal(grey[5]!.data.length, 16 * 12);
  assert.equal(grey[5]!.width, 16);
  assert.ok(Math.abs(grey[5]!.data[7]! - level(5)) <= 2);
});

test('partial reads: start time, duration and frame limits', async () => {
  const late = await collect(readFrames(video, { pixelFormat: 'gray', startS: 1 }));
  assert.equal(late.length, N - 15);
  assert.ok(Math.abs(late[0]!.data[0]! - level(15)) <= 2);
  assert.equal((await collect(readFrames(video, { pixelFormat: 'gray', maxSeconds: 1 }))).length, 15);
  assert.equal((await collect(readFrames(video, { pixelFormat: 'gray', maxFrames: 4 }))).length, 4);
});

test('stopping early stops ffmpeg; an aborted read says so', async () => {
  const long = path.join(dir, 'long.mp4');
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15:duration=120', '-c:v', 'libx264', '-preset', 'ultrafast', long]);
  const t0 = performance.now();
  let n = 0;
  for await (const f of readFrames(long, { pixelFormat: 'gray' })) {
    assert.equal(f.data.length, 320 * 240);
    if (++n === 3) break;
  }
  assert.ok(performance.now() - t0 < 20_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!processCommandLines().some((c) => c.includes(long)), 'no ffmpeg left reading the file');
  const ac = new AbortController();
  await assert.rejects(async () => {
    for await (const f of readFrames(long, { pixelFormat: 'gray', signal: ac.signal })) if (f.index === 2) ac.abort();
  }, /reading was cancelled/);
});

test('clear errors for files that are not readable videos', async () => {
  const missing = path.join(dir, 'nope.mp4');
  await assert.rejects(probeVideo(missing), (e: unknown) => e instanceof VideoReadError && /cannot read video .*nope\.mp4: no such file/.test(e.message));
  await assert.rejects(collect(readFrames(missing)), /no such file/);
  const text = path.join(dir, 'notes.mp4');
  writeFileSync(text, 'this is not a video\n');
  await assert.rejects(probeVideo(text), /not a readable video \(ffprobe: /);
  const empty = path.join(dir, 'empty.mp4');
  writeFileSync(empty, '');
  await assert.rejects(probeVideo(empty), /the file is empty/);
  const folder = path.join(dir, 'folder.mp4');
  mkdirSync(folder);
  await assert.rejects(probeVideo(folder), /not a file/);
  const audio = path.join(dir, 'tone.m4a');
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.5', '-c:a', 'aac', audio]);
  await assert.rejects(probeVideo(audio), /it has no video stream/);
  // A truncated MP4 whose header is intact but whose data is cut: the decoder's error is passed on.
  const cut = path.join(dir, 'cut.mp4');
  writeFileSync(cut, readFileSync(video).subarray(0, 600));
  await assert.rejects(collect(readFrames(cut, { pixelFormat: 'gray', width: 8, height: 8 })), VideoReadError);
  await assert.rejects(collect(readFrames(video, { width: 8 })), /both width and height/);
});
