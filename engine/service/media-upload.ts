// media.upload: bytes sent by a renderer that cannot hand the engine a path (a microphone recording in
// a browser). They are written into the folder media.import copies to, under the same content-hash name
// media.import would give them, and then imported in place — so the ffprobe checks, the MediaInfo and
// the de-duplication are exactly media.import's. A file ffprobe refuses is deleted again.
//
// A browser's MediaRecorder writes "live" WebM/Ogg with no duration in the header (ffprobe says N/A),
// which would leave the speech without a length for the trim and the waveform: such an upload is
// converted to WAV (16-bit PCM, lossless from the decoded audio) and the WAV is what gets imported.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg, stderrSummary } from '../media/ffmpeg-run.js';
import { probeMedia } from '../media/probe.js';
import type { MediaInfo } from './contract.js';
import { MAX_UPLOAD_BYTES, UPLOAD_AUDIO_EXTENSIONS } from './contract.js';
import { ServiceError } from './errors.js';
import { importMedia } from './media-import.js';

const MB = 1024 * 1024;

/** A name safe to put in a file name: no folders, only letters, digits, dot, dash and underscore. */
export function sanitizeUploadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(-100);
  return clean;
}

/** Decodes strict base64 (no whitespace, no URL alphabet): a corrupt upload must fail loudly, not shrink silently. */
function decodeBase64(data: string): Buffer {
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new ServiceError('bad-input', 'The upload is not valid base64 (expected standard base64 with padding, no line breaks).');
  }
  return Buffer.from(data, 'base64');
}

export async function uploadMedia(name: string, dataBase64: string, destDir: string, urlFor: (abs: string) => string | null): Promise<MediaInfo> {
  const clean = sanitizeUploadName(name);
  const ext = path.extname(clean).slice(1).toLowerCase();
  if (!clean || !(UPLOAD_AUDIO_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ServiceError('bad-input', `"${name}" is not an audio file the studio takes as an upload: the name must end in ${UPLOAD_AUDIO_EXTENSIONS.map((e) => `.${e}`).join(', ')}.`);
  }
  // Cheap check before decoding: base64 is 4 characters per 3 bytes.
  if (Math.floor((dataBase64.length * 3) / 4) - 2 > MAX_UPLOAD_BYTES) {
    throw new ServiceError('bad-input', `The upload is larger than ${MAX_UPLOAD_BYTES / MB} MB; record a shorter speech or import the file by its path.`);
  }
  const bytes = decodeBase64(dataBase64);
  if (bytes.length > MAX_UPLOAD_BYTES) throw new ServiceError('bad-input', `The upload is ${(bytes.length / MB).toFixed(1)} MB, more than the ${MAX_UPLOAD_BYTES / MB} MB limit; record a shorter speech or import the file by its path.`);
  if (bytes.length === 0) throw new ServiceError('bad-input', 'The upload is empty; the recording has no data.');
  await mkdir(destDir, { recursive: true });
  // The name media.import gives a copy (hash prefix + sanitised name), so importing it is a no-op copy.
  const dest = path.join(destDir, `${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}-${clean}`);
  const existed = await stat(dest).then((s) => s.isFile() && s.size === bytes.length, () => false);
  if (!existed) await writeFile(dest, bytes);
  try {
    const probed = await probeMedia(dest);
    if (probed && probed.duration === null && probed.streams.some((st) => st.codecType === 'audio' && st.duration === null)) return await importAsWav(dest, destDir, urlFor);
    return await importMedia(dest, destDir, 'audio', urlFor);
  } catch (e) {
    if (!existed) await rm(dest, { force: true });
    throw e;
  }
}

/** Decodes `src` to a WAV beside it, imports the WAV (content-hash name) and removes `src` and the temporary file. */
async function importAsWav(src: string, destDir: string, urlFor: (abs: string) => string | null): Promise<MediaInfo> {
  const tmp = path.join(destDir, `.upload-${process.pid}-${Date.now()}.wav`);
  try {
    const r = await runFfmpeg(['-v', 'error', '-y', '-i', src, '-vn', '-c:a', 'pcm_s16le', tmp]);
    if (r.code !== 0) throw new ServiceError('bad-input', `${path.basename(src)} could not be decoded as audio: ${stderrSummary(r.stderr)}`);
    const named = path.join(destDir, path.basename(src).replace(/\.[^.]+$/, '.wav').replace(/^[0-9a-f]{12}-/, ''));
    const info = await importMedia(tmp, destDir, 'audio', urlFor);
    // importMedia named the copy after the temporary file: give it the upload's name instead.
    const hash = path.basename(info.path).slice(0, 12);
    const final = path.join(destDir, `${hash}-${path.basename(named)}`);
    await rename(info.path, final);
    await rm(src, { force: true });
    return { ...info, path: final, url: urlFor(final) };
  } finally {
    await rm(tmp, { force: true });
  }
}
