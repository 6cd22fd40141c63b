// DOM-free helpers for the microphone recorder: which container MediaRecorder should write, the file
// name the upload gets (media.upload accepts webm/ogg/wav/mp3/m4a), and bytes → base64 for the JSON RPC.

/** Containers to ask MediaRecorder for, best first (Chromium: WebM/Opus; Firefox: Ogg/Opus; Safari: MP4/AAC). */
export const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/ogg', 'audio/mp4'] as const;

/** The first type `supported` accepts, or '' (let the browser choose). */
export function pickRecordingType(supported: (type: string) => boolean): string {
  return RECORDING_TYPES.find((t) => supported(t)) ?? '';
}

/** The upload's file extension for a recorder's MIME type (webm when unknown: what Chromium writes). */
export function recordingExtension(mimeType: string): 'webm' | 'ogg' | 'm4a' | 'wav' | 'mp3' {
  const t = mimeType.toLowerCase();
  if (t.startsWith('audio/ogg')) return 'ogg';
  if (t.startsWith('audio/mp4') || t.startsWith('audio/aac')) return 'm4a';
  if (t.startsWith('audio/wav') || t.startsWith('audio/x-wav')) return 'wav';
  if (t.startsWith('audio/mpeg')) return 'mp3';
  return 'webm';
}

/** "recording-20261125-122301.webm" for a recording stopped at `when` (local time). */
export function recordingName(when: Date, mimeType: string): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${when.getFullYear()}${p(when.getMonth() + 1)}${p(when.getDate())}-${p(when.getHours())}${p(when.getMinutes())}${p(when.getSeconds())}`;
  return `recording-${stamp}.${recordingExtension(mimeType)}`;
}

/** Standard base64 (with padding) of `bytes`, in chunks so that large recordings do not overflow the call stack. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}
