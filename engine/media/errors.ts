// Errors from reading portraits and speech and from writing videos. The message is a sentence a person
// can act on (it names the file and, where there is one, the limit); `code` lets callers branch without
// parsing messages (the UI shows "pick a frame" for a video given as portrait, for example).
export type MediaErrorCode =
  | 'not-found'
  | 'not-image'
  | 'is-video'
  | 'image-too-large'
  | 'not-audio'
  | 'no-audio-track'
  | 'empty-audio'
  | 'audio-too-long'
  | 'bad-range'
  | 'bad-crop'
  | 'output-unwritable'
  | 'disk-full'
  | 'bad-frame'
  | 'ffmpeg-failed';

export class MediaError extends Error {
  override name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Seconds as people read them in messages: "12.5 s", "0.04 s", "600 s (10 min)". */
export function fmtSeconds(s: number): string {
  const v = Math.abs(s) >= 10 ? s.toFixed(1) : s.toFixed(2);
  const short = v.replace(/\.?0+$/, '');
  return s >= 120 ? `${short} s (${+(s / 60).toFixed(1)} min)` : `${short} s`;
}
