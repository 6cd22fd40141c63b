// Clips the preparation tests make with real ffmpeg: the demo avatar (a drawn face FaceMesh finds)
// moving a little over a plain background with the demo speech, and the bad inputs (no face, silent,
// too short, no sound track, not a video). The avatar's mouth centre in each frame is known, so a test
// can check that the lip mask lands on it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ASSETS_DEMO_DIR } from '../../pipeline/demo-model.js';
import { VideoWriter } from '../../media/video-writer.js';
import type { AudioSource } from '../../media/video-writer.js';

export const CLIP_W = 320;
export const CLIP_H = 288;
/** The avatar's mouth centre in its own 256² picture (FaceMesh's lip contour spans x 106–149, y 155–165). */
export const AVATAR_MOUTH = { x: 128, y: 160 };
const SPEECH = path.join(ASSETS_DEMO_DIR, 'speech.wav');

let avatar: Promise<Buffer> | null = null;
const avatarRgb = (): Promise<Buffer> => (avatar ??= sharp(path.join(ASSETS_DEMO_DIR, 'avatar.png')).resize(256, 256).removeAlpha().raw().toBuffer());

export interface TestClipOptions {
  /** Horizontal sway of the avatar, pixels (default 3: a nearly static clip). */
  sway?: number;
  width?: number;
  height?: number;
}

/** Where the avatar's top-left corner is in frame `i` of a `width`-wide clip (a slow sway). */
export function avatarOffset(i: number, o: TestClipOptions = {}): { x: number; y: number } {
  const width = o.width ?? CLIP_W;
  return { x: (width - 256) / 2 + Math.round((o.sway ?? 3) * Math.sin(i / 5)), y: 16 };
}

async function avatarFrame(i: number, o: TestClipOptions): Promise<Buffer> {
  const at = avatarOffset(i, o);
  return sharp({ create: { width: o.width ?? CLIP_W, height: o.height ?? CLIP_H, channels: 3, background: { r: 70, g: 90, b: 110 } } })
    .composite([{ input: await avatarRgb(), raw: { width: 256, height: 256, channels: 3 }, left: at.x, top: at.y }])
    .removeAlpha()
    .raw()
    .toBuffer();
}

function noiseFrame(i: number, W: number, H: number): Buffer {
  const b = Buffer.alloc(W * H * 3);
  let s = 12345 + i * 7919;
  for (let p = 0; p < W * H; p++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const g = ((p % W) / W) * 160;
    b[p * 3] = g + ((s >>> 24) & 63);
    b[p * 3 + 1] = 80 + ((s >>> 16) & 63);
    b[p * 3 + 2] = 200 - g;
  }
  return b;
}

export type TestClipKind = 'face' | 'no-face' | 'silent' | 'no-audio';

export async function writeTestClip(file: string, kind: TestClipKind, frames: number, o: TestClipOptions = {}): Promise<string> {
  const W = o.width ?? CLIP_W;
  const H = o.height ?? CLIP_H;
  const seconds = frames / 15;
  const audio: AudioSource | undefined =
    kind === 'no-audio' ? undefined : kind === 'silent' ? { kind: 'pcm', samples: new Float32Array(Math.ceil(seconds * 16000)), sampleRate: 16000 } : { kind: 'file', path: SPEECH, end: seconds };
  const w = await VideoWriter.open({ output: file, width: W, height: H, fps: 15, preset: 'ultrafast', ...(audio ? { audio } : {}) });
  for (let i = 0; i < frames; i++) await w.writeFrame(kind === 'no-face' ? noiseFrame(i, W, H) : await avatarFrame(i, o));
  await w.finish();
  return file;
}

export async function writeNotAVideo(file: string): Promise<string> {
  await writeFile(file, 'this is a text file with a video extension\n');
  return file;
}
