// media.import: check a file at the door (media-validate.ts: the generator's own readers) and copy it
// into the project's media/ folder (or <data>/imports) so it lies under an allowed media root.
// Content-addressed: the copy is named "<sha256 prefix>-<name>", so the same bytes always land on the
// same name and different bytes never do — no import can replace or delete another import's file.
// The copy is written to a temporary file and renamed into place; a refused or failed import leaves
// the folder as it was.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { hasMovingVideo, isImageFormat, probeMedia } from '../media/probe.js';
import type { MediaInfo } from './contract.js';
import { ServiceError } from './errors.js';
import { validateMedia } from './media-validate.js';

/** Hex digits of the SHA-256 in a copy's name: 64 bits, far beyond any collision a media folder meets. */
export const HASH_PREFIX_HEX = 16;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A name safe to put in a file name: no folders, only letters, digits, dot, dash and underscore. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(-100) || 'media';
}

export interface ImportOptions {
  /** The name the person knows the file by (an upload's original name); used in messages and the copy's name. */
  displayName?: string;
}

export async function importMedia(src: string, destDir: string, want: 'image' | 'audio' | undefined, urlFor: (abs: string) => string | null, opts: ImportOptions = {}): Promise<MediaInfo> {
  const shown = opts.displayName ?? src;
  const st = await stat(src).catch(() => null);
  if (!st) throw new ServiceError('not-found', `There is no file at ${shown}; check the path.`);
  if (!st.isFile()) throw new ServiceError('bad-input', `${shown} is a folder, not a media file; choose a file inside it.`);
  if (st.size === 0) throw new ServiceError('bad-input', `${shown} is empty (0 bytes); choose another file.`);
  const probed = await probeMedia(src);
  const image = probed ? isImageFormat(probed.formatName) : false;
  const audioStream = probed?.streams.find((s) => s.codecType === 'audio');
  const video = probed ? hasMovingVideo(probed) : false;
  // ffprobe reads some damaged images it cannot name (or none at all): the image reader decides those.
  if (!want && !probed) throw new ServiceError('bad-input', `${path.basename(shown)} is not an image, audio or video file that the studio can read; choose a portrait photo or a speech recording.`);
  const kind: 'image' | 'audio' = want ?? (audioStream ? 'audio' : 'image');
  if (want === 'image' && probed && !image && (video || audioStream)) {
    throw new ServiceError('bad-input', `${path.basename(shown)} is ${audioStream && !video ? 'an audio file' : 'a video'}, not a still image; choose a portrait photo (PNG, JPEG or WebP).`);
  }
  if (want === 'audio' && !audioStream) {
    throw new ServiceError('bad-input', probed && video ? `${path.basename(shown)} is a video without a sound track; choose a file with the speech.` : `${path.basename(shown)} is not an audio file the studio can read; choose a WAV, MP3, M4A, OGG or WebM file with the speech.`);
  }
  const hash = await sha256File(src);
  // A file that already is a registered copy (re-import on open) stays as it is; older copies carry 12
  // hex digits. Its content still matches its name, so the door check it passed then still holds.
  const prefix = /^([0-9a-f]{12,16})-/.exec(path.basename(src))?.[1];
  const already = path.resolve(path.dirname(src)) === path.resolve(destDir) && !!prefix && hash.startsWith(prefix);
  const checked = already ? null : await validateMedia(src, kind, shown);
  const dest = already ? src : path.join(destDir, `${hash.slice(0, HASH_PREFIX_HEX)}-${safeFileName(opts.displayName ?? src)}`);
  if (!already) {
    await mkdir(destDir, { recursive: true });
    // Same name means same bytes: an existing copy is kept (never rewritten while a project reads it).
    const present = await stat(dest).then((d) => d.isFile() && d.size === st.size, () => false);
    if (!present || (await sha256File(dest)) !== hash) {
      const tmp = path.join(destDir, `.import-${randomBytes(6).toString('hex')}.tmp`);
      try {
        await copyFile(src, tmp);
        await rename(tmp, dest);
      } finally {
        await rm(tmp, { force: true });
      }
    }
  }
  const vs = probed?.streams.find((s) => s.codecType === 'video');
  return {
    path: dest,
    url: urlFor(dest),
    kind: kind === 'audio' ? 'audio' : 'image',
    bytes: st.size,
    width: checked?.width ?? vs?.width ?? null,
    height: checked?.height ?? vs?.height ?? null,
    duration: kind === 'audio' ? (checked?.duration ?? probed?.duration ?? audioStream?.duration ?? null) : null,
    sampleRate: audioStream?.sampleRate ?? null,
    channels: audioStream?.channels ?? null,
    warnings: checked?.warnings ?? [],
  };
}
