// Test material for engine/eval: the demo avatar (assets/demo/avatar.png) saying a train of voiced
// syllables, its mouth a dark ellipse whose height follows the syllables' loudness, written as an MP4
// (H.264 + AAC) by ffmpeg. FaceMesh tracks this drawn mouth (inner-lip ratio 0.01 closed → 0.34 at
// 12 px). Deterministic for a seed. `leadFrames` > 0 makes the mouth move that many frames after the
// sound (the video lags the audio).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadImage } from '../media/image-input.js';
import { ffmpegPath } from '../runtime/ffmpeg.js';

export const AVATAR = fileURLToPath(new URL('../../assets/demo/avatar.png', import.meta.url));

export interface TalkingClipOptions {
  seconds?: number;
  fps?: number;
  seed?: number;
  /** The mouth follows the sound this many frames late (default 0). */
  lagFrames?: number;
  /** Write no sound track. */
  silentTrack?: boolean;
}

export interface TalkingClip {
  file: string;
  frames: number;
  fps: number;
  /** The mouth opening drawn in each frame, 0..1. */
  mouthOpen: number[];
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Loudness 0..1 per sample: raised-cosine syllables of 0.12–0.3 s with gaps and a pause or two. */
function syllableEnvelope(n: number, sr: number, rand: () => number): Float32Array {
  const env = new Float32Array(n);
  let t = 0.15 * sr;
  while (t < n) {
    const len = Math.round((0.12 + 0.18 * rand()) * sr);
    const amp = 0.35 + 0.65 * rand();
    for (let k = 0; k < len && t + k < n; k++) env[t + k] = amp * Math.sin((Math.PI * k) / len) ** 2;
    t += len + Math.round((rand() < 0.15 ? 0.35 + 0.3 * rand() : 0.02 + 0.12 * rand()) * sr);
  }
  return env;
}

function wav16(samples: Float32Array, sr: number): Buffer {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24);
  b.writeUInt32LE(sr * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(samples[i]! * 32767))), 44 + 2 * i);
  return b;
}

/** Writes `<out>` (MP4) and returns the drawn mouth opening per frame. */
export async function writeTalkingClip(out: string, opts: TalkingClipOptions = {}): Promise<TalkingClip> {
  const fps = opts.fps ?? 15;
  const seconds = opts.seconds ?? 4;
  const sr = 16_000;
  const rand = rng(opts.seed ?? 1);
  const n = Math.round(seconds * sr);
  const env = syllableEnvelope(n, sr, rand);
  // A voiced sound: harmonics of a slowly gliding pitch, plus a little breath noise.
  const audio = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f0 = 120 + 25 * Math.sin((2 * Math.PI * i) / (sr * 1.7));
    phase += (2 * Math.PI * f0) / sr;
    let v = 0;
    for (let k = 1; k <= 12; k++) v += Math.sin(k * phase) / k;
    audio[i] = env[i]! * (0.25 * v + 0.05 * (rand() * 2 - 1));
  }
  const frames = Math.round(seconds * fps);
  const loud = Array.from({ length: frames }, (_, f) => {
    const a = Math.round((f * sr) / fps);
    const b = Math.min(n, Math.round(((f + 1) * sr) / fps));
    let s = 0;
    for (let k = a; k < b; k++) s += env[k]!;
    return b > a ? s / (b - a) : 0;
  });
  const lag = opts.lagFrames ?? 0;
  const mouthOpen = Array.from({ length: frames }, (_, f) => Math.min(1, loud[Math.min(frames - 1, Math.max(0, f - lag))]! / 0.8));

  const img = await loadImage(AVATAR);
  const { width, height } = img;
  const wavFile = `${out}.wav`;
  writeFileSync(wavFile, wav16(audio, sr));
  const args = ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-'];
  if (!opts.silentTrack) args.push('-i', wavFile);
  args.push('-map', '0:v', ...(opts.silentTrack ? [] : ['-map', '1:a', '-c:a', 'aac', '-b:a', '96k']), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-shortest', out);
  const p = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg encode failed (${code}): ${err}`))));
  });
  p.stdin.on('error', () => undefined);
  for (let f = 0; f < frames; f++) {
    const rgb = Uint8Array.from(img.data);
    const h = 12 * mouthOpen[f]! ** 0.8;
    // The demo avatar's mouth: centre (127, 158), 26 px wide.
    for (let y = 140; y < 180 && h > 0.3; y++) {
      for (let x = 110; x < 145; x++) {
        const dx = (x - 127) / 13;
        const dy = (y - 158) / (h / 2);
        if (dx * dx + dy * dy < 1) {
          const o = (y * width + x) * 3;
          rgb[o] = 60;
          rgb[o + 1] = 20;
          rgb[o + 2] = 25;
        }
      }
    }
    if (!p.stdin.write(rgb)) await new Promise((r) => p.stdin.once('drain', r));
  }
  p.stdin.end();
  await done;
  return { file: out, frames, fps, mouthOpen };
}
