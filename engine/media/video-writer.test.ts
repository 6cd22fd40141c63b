// Video writing with the real ffmpeg, checked with ffprobe: streams, codecs, fps, pixel format,
// duration against the speech; WebM; backpressure; cancel; ffmpeg failure; disk full and read-only
// disks (tmpfs mounts: skipped with the reason where this process may not mount); unwritable outputs
// refused before any work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledError } from '../common/engine-errors.js';
import { ffmpegPath, ffprobePath } from '../runtime/ffmpeg.js';
import { loadAudio, type DecodedAudio } from './audio-input.js';
import { MediaError } from './errors.js';
import { partialPath, VideoWriter } from './video-writer.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-video-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) if (spawnSync('umount', [m]).status === 0) rmSync(m, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});
const f = (name: string): string => path.join(dir, name);
const W = 128;
const H = 128;
const FPS = 15;

/** A frame with a moving gradient (so the encoder has something to encode). */
function frame(i: number, noise = false): Buffer {
  const b = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      if (noise) b.set([(Math.random() * 256) | 0, (Math.random() * 256) | 0, (Math.random() * 256) | 0], o);
      else b.set([(x + i * 4) & 255, (y * 2) & 255, (x + y + i * 8) & 255], o);
    }
  }
  return b;
}

interface Probe {
  streams: { codec_type: string; codec_name: string; pix_fmt?: string; r_frame_rate?: string; nb_frames?: string; duration?: string; color_space?: string }[];
  format: { duration: string; format_name: string; tags?: Record<string, string> };
}
const probe = (file: string): Probe => JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]).toString()) as Probe;

const NO_MOUNT = 'mounting needs root, and a container needs the right to mount';

/** Can this process mount a tmpfs (root in a container that allows it)? */
function mountTmpfs(size: string, ro = false): string | null {
  const m = mkdtempSync(path.join(os.tmpdir(), 'refree-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', m]);
  if (r.status !== 0) {
    rmSync(m, { recursive: true, force: true });
    return null;
  }
  mounts.push(m);
  return m;
}

let speech: DecodedAudio;
before(async () => {
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=2.2:sample_rate=44100', '-ac', '2', '-y', f('tone.wav')]);
  speech = await loadAudio(f('tone.wav'), { start: 0.1, end: 2.1 });
});

test('MP4: 1 H.264 yuv420p stream at 15 fps + 1 AAC stream, duration = speech ± 1 frame, metadata hook, no partial left', async () => {
  const out = f('talk.mp4');
  const n = Math.round(speech.duration * FPS);
  const w = await VideoWriter.open({
    output: out,
    width: W,
    height: H,
    fps: FPS,
    audio: { kind: 'pcm', samples: speech.samples, sampleRate: speech.sampleRate },
    preset: 'ultrafast',
    crf: 23,
    extraArgs: ['-metadata', 'comment=made by ReFree test'],
  });
  // The partial file exists while writing; the final name does not.
  assert.ok(existsSync(partialPath(out)), 'partial file exists while writing');
  assert.ok(!existsSync(out), 'final name not used while writing');
  for (let i = 0; i < n; i++) await w.writeFrame(frame(i));
  const res = await w.finish();
  assert.equal(res.frames, n);
  assert.ok(!existsSync(partialPath(out)), 'partial renamed');
  assert.ok(res.bytes > 1000, `${res.bytes} bytes`);

  const p = probe(out);
  const v = p.streams.filter((s) => s.codec_type === 'video');
  const a = p.streams.filter((s) => s.codec_type === 'audio');
  assert.equal(v.length, 1);
  assert.equal(a.length, 1);
  assert.equal(p.streams.length, 2);
  assert.equal(v[0]!.codec_name, 'h264');
  assert.equal(a[0]!.codec_name, 'aac');
  assert.equal(v[0]!.pix_fmt, 'yuv420p');
  assert.equal(v[0]!.r_frame_rate, '15/1');
  assert.equal(v[0]!.color_space, 'bt709');
  assert.equal(Number(v[0]!.nb_frames), n);
  const dur = Number(p.format.duration);
  assert.ok(Math.abs(dur - speech.duration) <= 1 / FPS, `container ${dur} s vs speech ${speech.duration} s`);
  assert.ok(Math.abs(Number(a[0]!.duration) - speech.duration) <= 1 / FPS, `audio stream ${a[0]!.duration} s`);
  assert.equal(p.format.tags?.comment, 'made by ReFree test');
  // +faststart: the moov atom comes before mdat.
  const head = readFileSync(out).subarray(0, 4096);
  assert.ok(head.indexOf('moov') >= 0 && (head.indexOf('mdat') < 0 || head.indexOf('moov') < head.indexOf('mdat')), 'moov first');
});

test('backpressure: writes wait for the pipe to drain; at most one frame is queued in Node', async (t) => {
  // 640×480 frames (900 KB) cannot fit the OS pipe (64 KB), so every write must wait for ffmpeg.
  const fw = 640;
  const fh = 480;
  const w = await VideoWriter.open({ output: f('big.mp4'), width: fw, height: fh, preset: 'ultrafast' });
  const img = Buffer.alloc(fw * fh * 3, 90);
  for (let i = 0; i < 12; i++) await w.writeFrame(img);
  await w.finish();
  t.diagnostic(`12 frames of 640×480: ${w.stats.drainWaits} drain waits, at most ${w.stats.maxBufferedBytes} bytes queued in Node`);
  assert.ok(w.stats.drainWaits >= 6, `drain waits ${w.stats.drainWaits} of 12 writes`);
  assert.ok(w.stats.maxBufferedBytes <= fw * fh * 3, `buffered ${w.stats.maxBufferedBytes} bytes`);
});

test('audio taken from a range of the original file is trimmed by ffmpeg', async () => {
  const out = f('range.mp4');
  const w = await VideoWriter.open({ output: out, width: W, height: H, audio: { kind: 'file', path: f('tone.wav'), start: 0.5, end: 1.7 }, preset: 'ultrafast' });
  for (let i = 0; i < 18; i++) await w.writeFrame(frame(i));
  await w.finish();
  const p = probe(out);
  assert.ok(Math.abs(Number(p.format.duration) - 1.2) <= 1 / FPS, `duration ${p.format.duration}`);
});

test('WebM: VP9 + Opus at 15 fps', async () => {
  const out = f('talk.webm');
  const n = 24;
  const w = await VideoWriter.open({ output: out, width: W, height: H, audio: { kind: 'pcm', samples: speech.samples.subarray(0, 25600), sampleRate: 16000 }, preset: 'ultrafast' });
  for (let i = 0; i < n; i++) await w.writeFrame(frame(i));
  await w.finish();
  const p = probe(out);
  assert.match(p.format.format_name, /webm|matroska/);
  const v = p.streams.find((s) => s.codec_type === 'video')!;
  assert.equal(v.codec_name, 'vp9');
  assert.equal(v.pix_fmt, 'yuv420p');
  assert.equal(v.r_frame_rate, '15/1');
  assert.equal(p.streams.find((s) => s.codec_type === 'audio')!.codec_name, 'opus');
  assert.ok(Math.abs(Number(p.format.duration) - 1.6) <= 1 / FPS + 0.01, `duration ${p.format.duration}`);
});

test('cancel via AbortSignal kills ffmpeg and removes the partial file', async () => {
  const out = f('cancelled.mp4');
  const ac = new AbortController();
  const w = await VideoWriter.open({ output: out, width: W, height: H, preset: 'ultrafast', signal: ac.signal });
  for (let i = 0; i < 5; i++) await w.writeFrame(frame(i));
  ac.abort();
  await assert.rejects(w.writeFrame(frame(5)), CancelledError);
  await assert.rejects(w.finish(), CancelledError);
  assert.ok(!existsSync(out) && !existsSync(partialPath(out)));
});

test('an ffmpeg failure rejects with its message and removes the partial file', async () => {
  const out = f('broken.mp4');
  const w = await VideoWriter.open({ output: out, width: W, height: H, extraArgs: ['-c:v', 'no_such_encoder'] });
  const err = await (async () => {
    try {
      for (let i = 0; i < 30; i++) await w.writeFrame(frame(i));
      await w.finish();
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err instanceof MediaError && err.code === 'ffmpeg-failed', String(err));
  assert.match(err.message, /ffmpeg failed while writing .*broken\.mp4: .*no_such_encoder/);
  assert.ok(!existsSync(partialPath(out)));
});

test('bad sizes are refused', async () => {
  await assert.rejects(VideoWriter.open({ output: f('odd.mp4'), width: 127, height: 128 }), (e: unknown) => e instanceof MediaError && e.code === 'bad-frame' && /must be even/.test(e.message));
  const w = await VideoWriter.open({ output: f('size.mp4'), width: W, height: H, preset: 'ultrafast' });
  await assert.rejects(w.writeFrame(Buffer.alloc(10)), (e: unknown) => e instanceof MediaError && /frame 0 has 10 bytes; a 128×128 RGB frame has 49152/.test(e.message));
  await w.abort();
  assert.ok(!existsSync(partialPath(f('size.mp4'))));
});

test('unwritable output is refused before any work starts', async () => {
  const missing = path.join(dir, 'no', 'such', 'folder', 'out.mp4');
  await assert.rejects(VideoWriter.open({ output: missing, width: W, height: H }), (e: unknown) => e instanceof MediaError && e.code === 'output-unwritable' && /the folder .*no\/such\/folder does not exist/.test(e.message));
  writeFileSync(f('plainfile'), 'x');
  await assert.rejects(VideoWriter.open({ output: path.join(f('plainfile'), 'out.mp4'), width: W, height: H }), (e: unknown) => e instanceof MediaError && e.code === 'output-unwritable' && /is not a folder|is a file, not a folder/.test(e.message));
  mkdirSync(f('adir.mp4'));
  await assert.rejects(VideoWriter.open({ output: f('adir.mp4'), width: W, height: H }), /a folder of that name exists/);
});

test('an output on a read-only disk is refused before any work starts, naming the reason', async (t) => {
  const ro = mountTmpfs('1m', true);
  if (!ro) return t.skip(`cannot mount a read-only tmpfs here (${NO_MOUNT})`);
  await assert.rejects(VideoWriter.open({ output: path.join(ro, 'out.mp4'), width: W, height: H }), (e: unknown) => e instanceof MediaError && e.code === 'output-unwritable' && /is not writable \(the disk is read-only\)/.test(e.message));
});

test('disk full while writing: "the disk is full while writing <path>: free N MB and retry", partial removed', async (t) => {
  const m = mountTmpfs('200k');
  if (!m) return t.skip(`cannot mount a 200 KB tmpfs here (${NO_MOUNT})`);
  const out = path.join(m, 'out.mp4');
  // Noise frames at high quality: ~40 KB each, so 200 KB fills within a few frames.
  const w = await VideoWriter.open({ output: out, width: W, height: H, preset: 'ultrafast', crf: 5, expectedFrames: 45, audio: { kind: 'pcm', samples: speech.samples.subarray(0, 48000), sampleRate: 16000 } });
  const err = await (async () => {
    try {
      for (let i = 0; i < 45; i++) await w.writeFrame(frame(i, true));
      await w.finish();
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err instanceof MediaError && err.code === 'disk-full', String(err));
  assert.match(err.message, new RegExp(`^the disk is full while writing ${out.replace(/[.]/g, '\\.')}: free \\d+ MB and retry$`));
  t.diagnostic(err.message);
  assert.deepEqual(readdirSync(m), [], 'partial file removed');

  // Already full before starting: refused by the preflight, before ffmpeg runs.
  writeFileSync(path.join(m, 'filler'), Buffer.alloc(200 * 1024 - 4096));
  await assert.rejects(VideoWriter.open({ output: out, width: W, height: H }), (e: unknown) => e instanceof MediaError && e.code === 'disk-full' && /the disk is full while writing .*: free \d+ MB and retry/.test(e.message));
  assert.deepEqual(readdirSync(m), ['filler']);
});
