// The wizard's quick check of a training clip as it arrives (a second or two per clip, in the host):
// length, frame rate, speech (a sound track that is not silent) and a face in three frames, plus a
// thumbnail. Each refusal carries the reason and what to do. The same limits as clip preparation
// (engine/train/prepare): at least MIN_FRAMES at the training rate, speech above −50 dBFS, a face in at
// least half the frames looked at; preparation checks every frame again when the run starts, and what it
// refuses then shows in the list too.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadAudio } from '../media/audio-input.js';
import type { FaceDetector } from '../media/face-detector.js';
import { blazeFaceDetector } from '../media/face-detector.js';
import { runFfmpeg } from '../media/ffmpeg-run.js';
import { loadImage } from '../media/image-input.js';
import { ffprobePath } from '../runtime/ffmpeg.js';
import { DEFAULT_MAX_SECONDS, MIN_FRAMES, PREPARE_FPS } from '../train/prepare/types.js';
import type { ClipCheck } from './contract.js';

/** Sources below this rate repeat frames at the training rate: the lips would lag the speech. */
export const MIN_CLIP_FPS = 10;
/** Detector confidence counted as a face (clip preparation uses the same). */
export const CLIP_FACE_SCORE = 0.5;
export const MIN_CLIP_SECONDS = MIN_FRAMES / PREPARE_FPS;

export interface ClipCheckResult {
  seconds: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  checks: { face: ClipCheck; speech: ClipCheck; length: ClipCheck; fps: ClipCheck };
  accepted: boolean;
  reason: string | null;
  fix: string | null;
  /** The thumbnail written (a PNG), or null when no frame could be read. */
  thumbnail: string | null;
}

let detector: Promise<FaceDetector> | null = null;
function faceDetector(): Promise<FaceDetector> {
  detector ??= blazeFaceDetector({ minScore: 0 }).catch((e: unknown) => {
    detector = null;
    throw e;
  });
  return detector;
}

interface VideoProbe {
  seconds: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  hasVideo: boolean;
  hasAudio: boolean;
}

function rate(s: string | undefined): number | null {
  if (!s) return null;
  const [a, b] = s.split('/').map(Number);
  if (!Number.isFinite(a) || !b) return null;
  return a! / b;
}

/** One ffprobe: streams, length and the video's frame rate (probeMedia does not read rates). */
function probeVideo(file: string): Promise<VideoProbe | null> {
  return new Promise((resolve) => {
    execFile(ffprobePath(), ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { maxBuffer: 8 << 20 }, (err, stdout) => {
      if (err) return resolve(null);
      try {
        const j = JSON.parse(stdout) as { format?: { duration?: string }; streams?: { codec_type?: string; width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; duration?: string; disposition?: { attached_pic?: number } }[] };
        const v = (j.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
        const d = Number(v?.duration ?? j.format?.duration);
        resolve({
          seconds: Number.isFinite(d) ? d : null,
          fps: rate(v?.avg_frame_rate) ?? rate(v?.r_frame_rate),
          width: v?.width ?? null,
          height: v?.height ?? null,
          hasVideo: !!v,
          hasAudio: (j.streams ?? []).some((s) => s.codec_type === 'audio'),
        });
      } catch {
        resolve(null);
      }
    });
  });
}

/** The frame at `t` seconds as a PNG of at most 320 px (null when none could be read). */
async function frameAt(file: string, t: number, out: string): Promise<string | null> {
  const r = await runFfmpeg(['-v', 'error', '-y', '-ss', t.toFixed(3), '-i', file, '-frames:v', '1', '-vf', 'scale=320:320:force_original_aspect_ratio=decrease', out]).catch(() => null);
  if (!r || r.code !== 0) return null;
  return (await readFile(out).then(() => out, () => null));
}

const fmt = (s: number): string => `${s.toFixed(1)} s`;

/** Checks `file`; writes its thumbnail as `thumbFile`. Never throws for a bad clip: it is refused with a reason. */
export async function checkTrainingClip(file: string, thumbFile: string): Promise<ClipCheckResult> {
  const name = path.basename(file);
  const probe = await probeVideo(file);
  const no = (detail: string): ClipCheck => ({ ok: false, detail });
  const unknown = no('not checked');
  if (!probe || !probe.hasVideo) {
    return {
      seconds: null, fps: null, width: null, height: null, thumbnail: null, accepted: false,
      checks: { face: unknown, speech: unknown, length: unknown, fps: unknown },
      reason: probe ? `${name} has no picture (it is a sound file, not a video).` : `${name} is not a video the studio can read (damaged, or an unknown format).`,
      fix: 'Add a video of yourself talking: an MP4, MOV or WebM from a phone or webcam, or record one here.',
    };
  }
  const seconds = probe.seconds;
  const length: ClipCheck =
    seconds === null ? no('the length cannot be read')
    : seconds < MIN_CLIP_SECONDS ? no(`${fmt(seconds)} — shorter than ${fmt(MIN_CLIP_SECONDS)}`)
    : { ok: true, detail: seconds > DEFAULT_MAX_SECONDS ? `${fmt(seconds)} (the first ${DEFAULT_MAX_SECONDS / 60} minutes are used)` : fmt(seconds) };
  const fpsCheck: ClipCheck = probe.fps === null ? no('the frame rate cannot be read') : probe.fps < MIN_CLIP_FPS ? no(`${probe.fps.toFixed(0)} frames a second — too few`) : { ok: true, detail: `${probe.fps.toFixed(probe.fps % 1 ? 1 : 0)} frames a second` };

  let speech: ClipCheck;
  if (!probe.hasAudio) speech = no('no sound track');
  else {
    try {
      const a = await loadAudio(file, { ...(seconds !== null && seconds > DEFAULT_MAX_SECONDS ? { end: DEFAULT_MAX_SECONDS } : {}), maxDuration: DEFAULT_MAX_SECONDS + 1 });
      speech = a.silent ? no('the sound track is silent') : { ok: true, detail: 'speech found' };
    } catch (e) {
      speech = no(`the sound cannot be read (${(e as Error).message})`);
    }
  }

  // Three frames spread over the clip; the middle one is the thumbnail.
  await mkdir(path.dirname(thumbFile), { recursive: true });
  const d = seconds ?? 1;
  const times = [0.2, 0.5, 0.8].map((f) => Math.max(0, f * d));
  let found = 0;
  let looked = 0;
  let thumbnail: string | null = null;
  const det = await faceDetector();
  for (const [i, t] of times.entries()) {
    const out = i === 1 ? thumbFile : `${thumbFile}.${i}.png`;
    const png = await frameAt(file, t, out);
    if (!png) continue;
    if (i === 1) thumbnail = png;
    looked++;
    const faces = await det.detect(await loadImage(png));
    if (faces.some((f) => f.score >= CLIP_FACE_SCORE)) found++;
    if (i !== 1) await rm(png, { force: true });
  }
  const face: ClipCheck = looked === 0 ? no('no frame could be read') : found * 2 >= looked && found > 0 ? { ok: true, detail: `a face in ${found} of ${looked} frames looked at` } : no(`a face in ${found} of ${looked} frames looked at`);

  // The first failed check decides the sentence (the most basic first).
  let reason: string | null = null;
  let fix: string | null = null;
  if (!length.ok) {
    reason = `Too short: ${length.detail}.`;
    fix = `Use a clip of at least ${Math.ceil(MIN_CLIP_SECONDS)} seconds; 5 to 30 seconds of talking works best.`;
  } else if (!fpsCheck.ok) {
    reason = `Too few frames: ${fpsCheck.detail}.`;
    fix = 'Record at 24 frames a second or more (any phone or webcam does by default).';
  } else if (!speech.ok) {
    reason = `No speech: ${speech.detail}.`;
    fix = 'The model learns how your lips move with your voice: record with the microphone on and talk while you record.';
  } else if (!face.ok) {
    reason = `No face found: ${face.detail}.`;
    fix = 'Face the camera in good light, with your face filling about a third of the picture, and keep it in view the whole time.';
  }
  return { seconds, fps: probe.fps, width: probe.width, height: probe.height, checks: { face, speech, length, fps: fpsCheck }, accepted: reason === null, reason, fix, thumbnail };
}
