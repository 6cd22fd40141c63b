// Bytes sent by a renderer that cannot hand the engine a path: a microphone recording (media.upload,
// base64 over RPC) or a file chosen in a browser (the web host's streamed /api/upload). The bytes go
// to a temporary file, are checked and imported exactly as media.import would (content-addressed
// copy), and the temporary file is removed. Only files this code created are ever removed: an upload
// with the same name and bytes as an earlier import lands on that import's copy and leaves it alone.
//
// A browser's MediaRecorder writes "live" WebM/Ogg with no duration in the header (ffprobe says N/A),
// which would leave the speech without a length for the trim and the waveform: such an upload is
// converted to WAV (16-bit PCM, lossless from the decoded audio) and the WAV is what gets imported.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg, stderrSummary } from '../media/ffmpeg-run.js';
import { probeMedia } from '../media/probe.js';
import type { MediaInfo } from './contract.js';
import { MAX_UPLOAD_BYTES, UPLOAD_AUDIO_EXTENSIONS, UPLOAD_IMAGE_EXTENSIONS } from './contract.js';
import { ServiceError } from './errors.js';
import { importMedia, safeFileName } from './media-import.js';

const MB = 1024 * 1024;

/** A name safe to put in a file name: no folders, only letters, digits, dot, dash and underscore. */
export function sanitizeUploadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(-100);
}

/** Decodes strict base64 (no whitespace, no URL alphabet): a corrupt upload must fail loudly, not shrink silently. */
function decodeBase64(data: string): Buffer {
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new ServiceError('bad-input', 'The upload is not valid base64 (expected standard base64 with padding, no line breaks).');
  }
  return Buffer.from(data, 'base64');
}

/** Refuses a name whose extension the studio does not take for `kind`; returns the safe name. */
export function checkUploadName(name: string, kind: 'image' | 'audio'): string {
  const clean = sanitizeUploadName(name);
  const ext = path.extname(clean).slice(1).toLowerCase();
  const allowed: readonly string[] = kind === 'image' ? UPLOAD_IMAGE_EXTENSIONS : UPLOAD_AUDIO_EXTENSIONS;
  if (!clean || !allowed.includes(ext)) {
    throw new ServiceError('bad-input', `"${name}" is not ${kind === 'image' ? 'a portrait image' : 'an audio file'} the studio takes: the name must end in ${allowed.map((e) => `.${e}`).join(', ')}.`);
  }
  return clean;
}

/** A fresh temporary file name in `dir` (dot-prefixed, removed by whoever made it). */
export function uploadTempPath(dir: string, name: string): string {
  return path.join(dir, `.upload-${randomBytes(6).toString('hex')}${path.extname(name).toLowerCase()}`);
}

export async function uploadMedia(name: string, dataBase64: string, destDir: string, urlFor: (abs: string) => string | null): Promise<MediaInfo> {
  const clean = checkUploadName(name, 'audio');
  // Cheap check before decoding: base64 is 4 characters per 3 bytes.
  if (Math.floor((dataBase64.length * 3) / 4) - 2 > MAX_UPLOAD_BYTES) {
    throw new ServiceError('bad-input', `The upload is larger than ${MAX_UPLOAD_BYTES / MB} MB; record a shorter speech or import the file by its path.`);
  }
  const bytes = decodeBase64(dataBase64);
  if (bytes.length > MAX_UPLOAD_BYTES) throw new ServiceError('bad-input', `The upload is ${(bytes.length / MB).toFixed(1)} MB, more than the ${MAX_UPLOAD_BYTES / MB} MB limit; record a shorter speech or import the file by its path.`);
  if (bytes.length === 0) throw new ServiceError('bad-input', 'The upload is empty; the recording has no data.');
  await mkdir(destDir, { recursive: true });
  const tmp = uploadTempPath(destDir, clean);
  try {
    await writeFile(tmp, bytes);
    return await importUploadedFile(tmp, clean, 'audio', destDir, urlFor);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Imports a temporary file that holds uploaded bytes, under the upload's name. The caller owns `tmp`
 * (and removes it); any conversion made here is removed here.
 */
export async function importUploadedFile(tmp: string, name: string, kind: 'image' | 'audio', destDir: string, urlFor: (abs: string) => string | null): Promise<MediaInfo> {
  const clean = safeFileName(name);
  if (kind === 'audio') {
    const probed = await probeMedia(tmp);
    if (probed && probed.duration === null && probed.streams.some((st) => st.codecType === 'audio' && st.duration === null)) {
      const wav = uploadTempPath(destDir, 'x.wav');
      try {
        const r = await runFfmpeg(['-v', 'error', '-y', '-i', tmp, '-vn', '-c:a', 'pcm_s16le', wav]);
        if (r.code !== 0) throw new ServiceError('bad-input', `${name} could not be decoded as audio: ${stderrSummary(r.stderr)}`);
        return await importMedia(wav, destDir, 'audio', urlFor, { displayName: clean.replace(/\.[^.]+$/, '.wav') });
      } finally {
        await rm(wav, { force: true });
      }
    }
  }
  return importMedia(tmp, destDir, kind, urlFor, { displayName: clean });
}
