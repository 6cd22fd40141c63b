// Limits the renderer checks before it sends anything (the host checks them again). Copies of the
// service contract's values — the renderer imports engine types only — kept equal by limits.test.ts.

/** Largest file the web host's streamed upload takes (MAX_FILE_UPLOAD_BYTES in the contract). */
export const MAX_FILE_UPLOAD_BYTES = 512 * 1024 * 1024;
/** Portrait file extensions (UPLOAD_IMAGE_EXTENSIONS). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic', 'heif'] as const;
/** Speech file extensions (UPLOAD_AUDIO_EXTENSIONS). */
export const AUDIO_EXTENSIONS = ['webm', 'ogg', 'wav', 'mp3', 'm4a', 'flac', 'aac', 'opus', 'mp4', 'mov'] as const;

/** What a dropped or pasted file is, by its type or name; null when the studio takes neither. */
export function fileKind(file: { name: string; type: string }): 'image' | 'audio' | null {
  if (file.type.startsWith('image/')) return 'image';
  if (file.type.startsWith('audio/') || file.type === 'video/mp4' || file.type === 'video/webm' || file.type === 'video/quicktime') return 'audio';
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return 'image';
  if ((AUDIO_EXTENSIONS as readonly string[]).includes(ext)) return 'audio';
  return null;
}
