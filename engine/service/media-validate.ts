// The door check of every import (media.import, media.upload, the web host's streamed upload): the
// same readers the generator uses (engine/media image-input / audio-input), so a file the CLI would
// refuse is refused here at once, with the CLI's sentence — not minutes later by a failed job. The
// image is decoded small (the header's size limit still applies); the speech is decoded whole at
// 16 kHz, which also finds files that end before their header says (a cut-off download).
import { MediaError } from '../media/errors.js';
import { loadAudio } from '../media/audio-input.js';
import { loadImage } from '../media/image-input.js';
import { ServiceError } from './errors.js';

export interface ValidatedMedia {
  kind: 'image' | 'audio';
  width: number | null;
  height: number | null;
  /** Seconds of speech actually decoded (audio). */
  duration: number | null;
  warnings: string[];
}

/** Decoded speech shorter than its stated length by more than this is reported as cut short. */
const CUT_SHORT_TOLERANCE_S = 0.5;

/** "the speech from /tmp/x.wav is …" → "The speech from voice.wav is …." (the name the person knows). */
export function mediaSentence(message: string, file: string, displayName: string): string {
  const named = displayName === file ? message : message.split(file).join(displayName);
  // A sentence that starts with the file name keeps the name as it is spelled.
  const s = named.startsWith(displayName) ? named : named.charAt(0).toUpperCase() + named.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export async function validateMedia(file: string, kind: 'image' | 'audio', displayName = file): Promise<ValidatedMedia> {
  try {
    if (kind === 'image') {
      // A small decode: the whole file is read and checked (truncation, lying headers), the bitmap stays tiny.
      const img = await loadImage(file, { maxPixels: 256 * 256 });
      return { kind, width: img.sourceWidth, height: img.sourceHeight, duration: null, warnings: img.warnings.filter((w) => !/downscaled/.test(w)).map((w) => mediaSentence(w, file, displayName)) };
    }
    const a = await loadAudio(file);
    const warnings = a.warnings.map((w) => mediaSentence(w, file, displayName));
    if (a.sourceDuration !== null && a.duration < a.sourceDuration - CUT_SHORT_TOLERANCE_S) {
      warnings.push(`${displayName} ends early: only ${a.duration.toFixed(1)} s of the ${a.sourceDuration.toFixed(1)} s its header states could be decoded, so the file is probably cut short (an interrupted download or copy); the speech stops there.`);
    }
    return { kind, width: null, height: null, duration: a.duration, warnings };
  } catch (e) {
    // No range was asked for, so a range complaint means the file states no length at all (a header-only WAV).
    if (e instanceof MediaError && e.code === 'bad-range') throw new ServiceError('bad-input', `${displayName} contains no audio (its length is 0 s); record again or choose another file.`);
    if (e instanceof MediaError) throw new ServiceError(e.code === 'not-found' ? 'not-found' : 'bad-input', mediaSentence(e.message, file, displayName));
    throw e;
  }
}
