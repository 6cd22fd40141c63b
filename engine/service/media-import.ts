// media.import: probe a file (ffprobe), refuse what is not an image or audio, and copy it into the
// project's media/ folder (or <data>/imports) so that it lies under an allowed media root. The copy's
// name starts with a content hash, so importing the same file twice yields one copy.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { hasMovingVideo, isImageFormat, probeMedia } from '../media/probe.js';
import type { MediaInfo } from './contract.js';
import { ServiceError } from './errors.js';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function importMedia(src: string, destDir: string, want: 'image' | 'audio' | undefined, urlFor: (abs: string) => string | null): Promise<MediaInfo> {
  const st = await stat(src).catch(() => null);
  if (!st) throw new ServiceError('not-found', `There is no file at ${src}.`);
  if (!st.isFile()) throw new ServiceError('bad-input', `${src} is a folder, not a media file.`);
  const probed = await probeMedia(src);
  if (!probed) throw new ServiceError('bad-input', `${path.basename(src)} is not an image, audio or video file that ffmpeg can read.`);
  const image = isImageFormat(probed.formatName);
  const video = hasMovingVideo(probed);
  const audio = probed.streams.find((s) => s.codecType === 'audio');
  const kind: MediaInfo['kind'] = image ? 'image' : video ? 'video' : audio ? 'audio' : 'image';
  if (want === 'image' && kind !== 'image') throw new ServiceError('bad-input', `${path.basename(src)} is ${kind === 'audio' ? 'an audio file' : 'a video'}, not a still image; choose a portrait photo.`);
  if (want === 'audio' && !audio) throw new ServiceError('bad-input', `${path.basename(src)} has no sound track; choose a speech recording.`);
  const vs = probed.streams.find((s) => s.codecType === 'video');
  await mkdir(destDir, { recursive: true });
  const hash = (await sha256(src)).slice(0, 12);
  // A file that already is a registered copy (re-import on open, media.upload) stays as it is, rather
  // than gaining a second hash prefix.
  const already = path.resolve(path.dirname(src)) === path.resolve(destDir) && path.basename(src).startsWith(`${hash}-`);
  const dest = already ? src : path.join(destDir, `${hash}-${path.basename(src).replace(/[^A-Za-z0-9._-]+/g, '_')}`);
  if (path.resolve(dest) !== path.resolve(src)) {
    const same = await stat(dest).then((d) => d.size === st.size, () => false);
    if (!same) await copyFile(src, dest);
  }
  return {
    path: dest,
    url: urlFor(dest),
    kind: want === 'audio' ? 'audio' : kind,
    bytes: st.size,
    width: vs?.width ?? null,
    height: vs?.height ?? null,
    duration: probed.duration ?? audio?.duration ?? null,
    sampleRate: audio?.sampleRate ?? null,
    channels: audio?.channels ?? null,
  };
}
