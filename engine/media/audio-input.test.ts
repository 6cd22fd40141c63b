// Speech loading with real files made by our own code (engine/media/testing/test-audio.ts) and by the
// npm package's ffmpeg (lavfi sources), decoded by the real ffmpeg. No system sound tools are needed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledError } from '../common/engine-errors.js';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import { loadAudio, rmsDb, SPEECH_SAMPLE_RATE } from './audio-input.js';
import { MediaError } from './errors.js';
import { runFfmpeg } from './ffmpeg-run.js';
import { pcm16Wav, speechLike } from './testing/test-audio.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-audio-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string): string => path.join(dir, name);
const ff = (...args: string[]): void => void execFileSync(ffmpegPath(), ['-v', 'error', '-nostdin', ...args, '-y']);
const isMedia = (code: string, re: RegExp) => (e: unknown) => e instanceof MediaError && e.code === code && re.test(e.message);

before(() => {
  // 2.5 s, 44.1 kHz stereo MP3 (440 Hz left, 660 Hz right).
  ff('-f', 'lavfi', '-i', 'sine=f=440:d=2.5:sample_rate=44100', '-f', 'lavfi', '-i', 'sine=f=660:d=2.5:sample_rate=44100', '-filter_complex', '[0][1]amerge=inputs=2', '-c:a', 'libmp3lame', '-b:a', '128k', f('stereo.mp3'));
  // 1 s of digital silence, then 1 s of a 1 kHz tone, 48 kHz stereo WAV.
  ff('-f', 'lavfi', '-t', '1', '-i', 'anullsrc=r=48000:cl=stereo', '-f', 'lavfi', '-i', 'sine=f=1000:d=1:sample_rate=48000', '-filter_complex', '[1]asplit[l][r];[l][r]amerge=inputs=2[t];[0][t]concat=n=2:v=0:a=1', f('gap.wav'));
  // 4 s of speech-like audio at 22.05 kHz (a common synthesiser rate, so it is resampled on load).
  writeFileSync(f('speech.wav'), pcm16Wav(speechLike(4, 22050), 22050));
  writeFileSync(f('silent.wav'), pcm16Wav(new Float32Array(1.5 * 16000), 16000));
  writeFileSync(f('zero.wav'), pcm16Wav(new Float32Array(0), 16000));
  writeFileSync(f('notes.wav'), 'this is a text file, not audio\n'.repeat(20));
  // A video with a sound track (1.2 s) and one without.
  ff('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=15:duration=1.2', '-f', 'lavfi', '-i', 'sine=f=300:d=1.2:sample_rate=44100', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', f('talk.mp4'));
  ff('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=15:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', f('mute.mp4'));
});

test('44.1 kHz stereo MP3 → 16 kHz mono Float32 of the right duration', async () => {
  const a = await loadAudio(f('stereo.mp3'));
  assert.equal(a.sampleRate, SPEECH_SAMPLE_RATE);
  assert.ok(a.samples instanceof Float32Array);
  // The tone is 2.5 s; MP3 framing may add or cut a few ms, never a video frame (1/15 s).
  assert.ok(Math.abs(a.duration - 2.5) < 1 / 15, `duration ${a.duration}`);
  assert.ok(a.sourceDuration! > 2.4 && a.sourceDuration! < 2.6);
  // Two sines of amplitude 1/8 mixed to mono: RMS ≈ −24 dBFS (down-mix halves each), clearly not silent.
  assert.ok(a.rmsDb > -30 && a.rmsDb < -15, `rms ${a.rmsDb}`);
  assert.equal(a.silent, false);
  assert.ok(a.samples.every((v) => Math.abs(v) <= 1));
});

test('speech-like audio at 22.05 kHz decodes at 16 kHz with the duration ffprobe states', async () => {
  const a = await loadAudio(f('speech.wav'));
  assert.ok(Math.abs(a.duration - a.sourceDuration!) < 0.01, `${a.duration} vs ${a.sourceDuration}`);
  assert.ok(a.duration > 2);
  assert.equal(a.silent, false);
});

test('trimming by start/end picks exactly that range', async () => {
  const quiet = await loadAudio(f('gap.wav'), { start: 0.2, end: 0.8 });
  assert.equal(quiet.samples.length, 0.6 * 16000);
  assert.equal(quiet.start, 0.2);
  assert.ok(Math.abs(quiet.end - 0.8) < 1e-9);
  assert.equal(quiet.rmsDb, -Infinity);
  assert.equal(quiet.silent, true);
  const tone = await loadAudio(f('gap.wav'), { start: 1.25, end: 1.75 });
  assert.equal(tone.samples.length, 8000);
  // sine of amplitude 1/8: RMS = 20·log10(0.125/√2) ≈ −21 dBFS.
  assert.ok(Math.abs(tone.rmsDb + 21.07) < 0.5, `rms ${tone.rmsDb}`);
  assert.equal(tone.silent, false);
  // Start only: to the end of the file.
  const rest = await loadAudio(f('gap.wav'), { start: 1.5 });
  assert.ok(Math.abs(rest.duration - 0.5) < 0.005, `${rest.duration}`);
});

test('bad ranges are refused with the numbers in the message', async () => {
  await assert.rejects(loadAudio(f('gap.wav'), { start: 1.5, end: 1 }), isMedia('bad-range', /start \(1\.5 s\) must be before end \(1 s\)/));
  await assert.rejects(loadAudio(f('gap.wav'), { end: 3 }), isMedia('bad-range', /end \(3 s\) is past the end of .*gap\.wav, which is 2 s long/));
  await assert.rejects(loadAudio(f('gap.wav'), { start: 2.5 }), isMedia('bad-range', /start \(2\.5 s\) is at or past the end/));
  await assert.rejects(loadAudio(f('gap.wav'), { start: -1 }), isMedia('bad-range', /start must be a number of seconds ≥ 0/));
});

test('silent audio decodes with the silent flag and a warning', async () => {
  const a = await loadAudio(f('silent.wav'));
  assert.equal(a.silent, true);
  assert.ok(Math.abs(a.duration - 1.5) < 0.01);
  assert.match(a.warnings.join('\n'), /silent\.wav is silent or nearly so/);
  // Normalising silence is skipped (it would only raise noise), and still flagged.
  const n = await loadAudio(f('silent.wav'), { normalize: true });
  assert.equal(n.silent, true);
  assert.equal(n.loudness?.applied, false);
  assert.equal(rmsDb(n.samples), -Infinity);
});

test('zero-length audio, a text file, a missing file and a mute video are refused', async () => {
  await assert.rejects(loadAudio(f('zero.wav')), isMedia('empty-audio', /zero\.wav contains no audio .*zero length/));
  await assert.rejects(loadAudio(f('notes.wav')), isMedia('not-audio', /notes\.wav is not an audio file/));
  await assert.rejects(loadAudio(f('missing.mp3')), isMedia('not-found', /missing\.mp3 does not exist/));
  await assert.rejects(loadAudio(f('mute.mp4')), isMedia('no-audio-track', /mute\.mp4 is a video without a sound track/));
});

test("a video's sound track is decoded", async () => {
  const a = await loadAudio(f('talk.mp4'));
  assert.ok(Math.abs(a.duration - 1.2) < 0.05, `duration ${a.duration}`);
  assert.equal(a.silent, false);
});

test('longer than the limit: refused naming the limit', async () => {
  await assert.rejects(loadAudio(f('stereo.mp3'), { maxDuration: 1 }), isMedia('audio-too-long', /is 2\.5\d? s long, more than the limit of 1 s/));
  // Trimmed within the limit, the same file is fine.
  const a = await loadAudio(f('stereo.mp3'), { maxDuration: 1, start: 0.5, end: 1.4 });
  assert.equal(a.samples.length, 14400);
});

test('EBU R128 normalisation brings speech to −23 LUFS (and to a custom target)', async () => {
  const measure = async (samples: Float32Array): Promise<number> => {
    const raw = f(`m-${samples.length}.f32`);
    writeFileSync(raw, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    const r = await runFfmpeg(['-hide_banner', '-nostats', '-f', 'f32le', '-ar', '16000', '-ac', '1', '-i', raw, '-af', 'loudnorm=print_format=json', '-f', 'null', '-']);
    return Number(/"input_i" : "([-\d.]+)"/.exec(r.stderr)![1]);
  };
  const plain = await loadAudio(f('speech.wav'));
  const before = await measure(plain.samples);
  const n = await loadAudio(f('speech.wav'), { normalize: true });
  const after23 = await measure(n.samples);
  assert.equal(n.loudness?.applied, true);
  assert.ok(Math.abs(n.loudness!.inputLufs - before) < 1, `pass-1 ${n.loudness!.inputLufs} vs ${before}`);
  assert.ok(Math.abs(after23 + 23) < 1, `normalised to ${after23} LUFS (from ${before})`);
  const n16 = await loadAudio(f('speech.wav'), { normalize: { targetLufs: -16 } });
  const after16 = await measure(n16.samples);
  assert.ok(Math.abs(after16 + 16) < 1, `normalised to ${after16} LUFS`);
  assert.equal(n.samples.length, plain.samples.length);
});

test('an aborted signal cancels the decode', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(loadAudio(f('stereo.mp3'), { signal: ac.signal }), (e: unknown) => e instanceof CancelledError || (e as Error).name === 'AbortError');
});
