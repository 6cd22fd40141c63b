// One clip of the synthetic talking-face world, fully determined by (seed, split, seconds, size, fps):
// a sentence spoken by a voice (16 kHz audio), the face of an identity animated from the same phone
// timeline (frames), and the per-frame truth. writeClip puts it on disk as `<name>.mp4` (H.264 + AAC)
// plus `<name>.json` (ClipTruth). These are source clips for training and evaluation, so no visible
// label or watermark is applied.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VideoWriter } from '../media/video-writer.js';
import { AvatarRenderer, NEUTRAL_POSE } from './face/avatar.js';
import type { Identity } from './face/identity.js';
import { identityFields, makeIdentity } from './face/identity.js';
import { animate } from './motion.js';
import type { Split } from './rng.js';
import { clipRng } from './rng.js';
import { planUtterance } from './speech/sentence.js';
import { SAMPLE_RATE, synthesize } from './speech/synth.js';
import { makeVoice } from './speech/voice.js';
import type { ClipTruth } from './types.js';
import { CLIP_TRUTH_FORMAT } from './types.js';

export interface ClipOptions {
  seed: number;
  split: Split;
  /** Seconds of video (frames = round(seconds · fps)). */
  seconds: number;
  /** Square frame size in pixels (even, ≥ 16). */
  size: number;
  /** Frames per second (default 15). */
  fps?: number;
  /** Use another seed's identity (same split): the same face saying something else. Default `seed`. */
  identitySeed?: number;
  /** Use another seed's voice (same split). Default `seed`. */
  voiceSeed?: number;
}

export interface Clip {
  /** RGB8 frames, size × size × 3 each. */
  frames: Uint8Array[];
  /** 16 kHz mono speech, exactly frames / fps seconds long. */
  audio: Float32Array;
  truth: ClipTruth;
}

export function validateClipOptions(o: ClipOptions): void {
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new Error(`seed must be a whole number ≥ 0, got ${o.seed}`);
  if (o.split !== 'train' && o.split !== 'heldout') throw new Error(`split must be "train" or "heldout", got "${String(o.split)}"`);
  if (!(o.seconds > 0) || o.seconds > 600) throw new Error(`seconds must be more than 0 and at most 600, got ${o.seconds}`);
  if (!Number.isInteger(o.size) || o.size < 16 || o.size > 2048 || o.size % 2) throw new Error(`size must be an even whole number from 16 to 2048 pixels, got ${o.size}`);
  const fps = o.fps ?? 15;
  if (!(fps > 0) || fps > 120) throw new Error(`fps must be more than 0 and at most 120, got ${fps}`);
  if (Math.round(o.seconds * fps) < 1) throw new Error(`${o.seconds} s at ${fps} fps is less than one frame`);
}

/** Per-frame loudness: RMS over a one-frame window centred on each frame's time, divided by the clip's largest. */
export function frameEnvelope(audio: Float32Array, sampleRate: number, fps: number, frames: number): number[] {
  const hop = sampleRate / fps;
  const rms: number[] = [];
  for (let i = 0; i < frames; i++) {
    const a = Math.max(0, Math.round(i * hop - hop / 2));
    const b = Math.min(audio.length, Math.round(i * hop + hop / 2));
    let e = 0;
    for (let j = a; j < b; j++) e += audio[j]! * audio[j]!;
    rms.push(b > a ? Math.sqrt(e / (b - a)) : 0);
  }
  const max = Math.max(...rms, 1e-9);
  return rms.map((r) => r / max);
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** A neutral, closed-mouth picture of an identity (the first frame of any of its clips, before motion). */
export function renderPortrait(identity: Identity, size: number): Uint8Array {
  return new AvatarRenderer(identity, size).render(NEUTRAL_POSE);
}

export function renderClip(opts: ClipOptions): Clip {
  validateClipOptions(opts);
  const { seed, split, seconds, size } = opts;
  const fps = opts.fps ?? 15;
  const frames = Math.round(seconds * fps);
  const duration = frames / fps;
  const identity = makeIdentity(split, opts.identitySeed ?? seed);
  const voice = makeVoice(split, opts.voiceSeed ?? seed);
  const utt = planUtterance(split, seed, duration, voice.rate);
  const audio = synthesize(utt.phones, voice, duration, clipRng('speech', split, seed));
  const motion = animate(utt.phones, fps, frames, identity.motion, clipRng('motion', split, seed));
  const renderer = new AvatarRenderer(identity, size);
  const out: Uint8Array[] = [];
  const lips: ClipTruth['perFrame']['lips'] = [];
  const face: ClipTruth['perFrame']['face'] = [];
  for (let i = 0; i < frames; i++) {
    const pose = {
      open: motion.mouthOpen[i]!,
      width: motion.mouthWidth[i]!,
      round: motion.mouthRound[i]!,
      brow: motion.brow[i]!,
      yaw: motion.headYaw[i]!,
      pitch: motion.headPitch[i]!,
      roll: motion.headRoll[i]!,
      blink: motion.blink[i]!,
    };
    out.push(renderer.render(pose));
    const l = renderer.lipEllipse(pose);
    const f = renderer.faceEllipse(pose);
    lips.push({ cx: r4(l.cx), cy: r4(l.cy), rx: r4(l.rx), ry: r4(l.ry), angle: r4(l.angle) });
    face.push({ cx: r4(f.cx), cy: r4(f.cy), rx: r4(f.rx), ry: r4(f.ry), angle: r4(f.angle) });
  }
  const truth: ClipTruth = {
    format: CLIP_TRUTH_FORMAT,
    seed,
    split,
    fps,
    sampleRate: SAMPLE_RATE,
    size,
    frames,
    duration,
    identity: identityFields(identity),
    voice: Object.fromEntries(Object.entries(voice).map(([k, v]) => [k, typeof v === 'number' ? r4(v) : v])) as ClipTruth['voice'],
    phones: utt.phones.map((p) => ({ phone: p.phone, cls: p.cls, start: r4(p.start), end: r4(p.end), stressed: p.stressed })),
    perFrame: {
      mouthOpen: motion.mouthOpen.map(r4),
      mouthWidth: motion.mouthWidth.map(r4),
      mouthRound: motion.mouthRound.map(r4),
      brow: motion.brow.map(r4),
      headYaw: motion.headYaw.map(r4),
      headPitch: motion.headPitch.map(r4),
      headRoll: motion.headRoll.map(r4),
      blink: motion.blink.map(r4),
      envelope: frameEnvelope(audio, SAMPLE_RATE, fps, frames).map(r4),
      lips,
      face,
    },
  };
  return { frames: out, audio, truth };
}

export interface WrittenClip {
  video: string;
  truthFile: string;
  truth: ClipTruth;
}

/** Renders the clip and writes `<dir>/<name>.mp4` (H.264 + AAC) and `<dir>/<name>.json` (its truth). */
export async function writeClip(dir: string, name: string, opts: ClipOptions & { signal?: AbortSignal; crf?: number }): Promise<WrittenClip> {
  const clip = renderClip(opts);
  await mkdir(dir, { recursive: true });
  const video = path.join(dir, `${name}.mp4`);
  const truthFile = path.join(dir, `${name}.json`);
  const writer = await VideoWriter.open({
    output: video,
    width: opts.size,
    height: opts.size,
    fps: clip.truth.fps,
    audio: { kind: 'pcm', samples: clip.audio, sampleRate: SAMPLE_RATE },
    crf: opts.crf ?? 16,
    preset: 'fast',
    expectedFrames: clip.frames.length,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    for (const f of clip.frames) await writer.writeFrame(f);
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  await writeFile(truthFile, `${JSON.stringify(clip.truth)}\n`);
  return { video, truthFile, truth: clip.truth };
}
