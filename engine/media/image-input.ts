// Reads the portrait: any still image sharp decodes (PNG, JPEG, WebP; also GIF/TIFF/AVIF/HEIF, first
// frame), with the EXIF orientation applied, transparency flattened onto a background colour, and the
// result as 8-bit interleaved RGB. Memory is bounded whatever the file: sharp refuses images above
// `maxInputPixels` (its limitInputPixels, checked from the header before any pixel is decoded), and
// images above `maxPixels` are downscaled while they are decoded (libvips streams the decode through
// the resize, using JPEG/WebP shrink-on-load where it can), so the full-size bitmap never exists.
// Measured on this project's 2-core machine: a 20000×20000 PNG decodes to 4096×4096 in about 2 s with
// a peak RSS of about 230 MB for the whole Node process (see image-input.test.ts), where a full decode
// would need 1.2 GB for the pixels alone.
// A video handed in as the portrait is recognised (ffprobe) and refused with "pick a frame".
import { stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MediaError } from './errors.js';
import { hasMovingVideo, probeMedia } from './probe.js';

export interface RgbImage {
  /** width × height × 3 bytes, row-major, interleaved R G B. */
  data: Buffer;
  width: number;
  height: number;
}

export interface LoadImageOptions {
  /** Colour that transparent pixels are flattened onto (CSS colour or {r,g,b}); default white. */
  background?: string | { r: number; g: number; b: number };
  /** Refuse files whose stored size exceeds this many pixels (default 500 million, e.g. 22000×22000). */
  maxInputPixels?: number;
  /**
   * Memory budget of the decoded picture, in pixels (3 bytes each): larger images are downscaled while
   * decoding to fit (default 4096×4096 ≈ 16.8 MP ≈ 48 MB of RGB).
   */
  maxPixels?: number;
}

export interface LoadedImage extends RgbImage {
  file: string;
  /** sharp's decoder name: 'png', 'jpeg', 'webp', 'gif', 'heif', ... */
  format: string;
  /** Size of the picture as stored, after EXIF orientation (before any downscale). */
  sourceWidth: number;
  sourceHeight: number;
  /** EXIF orientation found (1 when none). */
  orientation: number;
  hadAlpha: boolean;
  /** width / sourceWidth: 1 unless the picture was downscaled to fit `maxPixels`. */
  scale: number;
  warnings: string[];
}

export const DEFAULT_MAX_INPUT_PIXELS = 500_000_000;
export const DEFAULT_MAX_PIXELS = 4096 * 4096;

const mp = (px: number): string => `${+(px / 1e6).toFixed(1)} megapixels`;

/** Why sharp could not read `file`: a video, an audio file, or simply not an image. */
async function explainUnreadable(file: string, sharpMessage: string): Promise<MediaError> {
  let probe = null;
  try {
    probe = await probeMedia(file);
  } catch {
    /* no ffprobe: fall through to the generic message */
  }
  if (probe && hasMovingVideo(probe)) {
    return new MediaError('is-video', `${file}: that is a video; give a still image (or pick a frame)`, file);
  }
  if (probe && probe.streams.some((s) => s.codecType === 'audio') && !probe.streams.some((s) => s.codecType === 'video')) {
    return new MediaError('not-image', `${file} is an audio file, not an image; give a still image (PNG, JPEG or WebP) as the portrait`, file);
  }
  const why = /unsupported image format/i.test(sharpMessage) ? 'its format is not one of PNG, JPEG, WebP, GIF, TIFF, AVIF or HEIF' : `it cannot be decoded: ${sharpMessage}`;
  return new MediaError('not-image', `${file} is not an image (${why})`, file);
}

export async function loadImage(file: string, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const maxInputPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const background = opts.background ?? '#ffffff';

  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new MediaError('not-image', `${file} is a folder, not an image`, file);
    if (st.size === 0) throw new MediaError('not-image', `${file} is empty (0 bytes), not an image`, file);
  } catch (e) {
    if (e instanceof MediaError) throw e;
    throw new MediaError('not-found', `${file} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }

  // The header alone: format, stored size, orientation. No pixels are decoded here.
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw await explainUnreadable(file, (e as Error).message);
  }
  const stored = meta.width * meta.height;
  if (stored > maxInputPixels) {
    throw new MediaError(
      'image-too-large',
      `${file} is ${meta.width}×${meta.height} (${mp(stored)}), more than the limit of ${mp(maxInputPixels)}; scale it down (a portrait needs no more than a few megapixels) and try again`,
      file,
    );
  }
  const warnings: string[] = [];
  if ((meta.pages ?? 1) > 1 && (meta.format === 'gif' || meta.format === 'webp')) warnings.push(`${file} is animated (${meta.pages} frames); its first frame is used`);

  const width0 = meta.autoOrient?.width ?? meta.width;
  const height0 = meta.autoOrient?.height ?? meta.height;
  // Largest size within the budget, keeping the aspect ratio (never upscale here).
  const shrink = Math.min(1, Math.sqrt(maxPixels / (width0 * height0)));
  let pipeline = sharp(file, { limitInputPixels: maxInputPixels, autoOrient: true, failOn: 'error', pages: 1 });
  if (shrink < 1) {
    const w = Math.max(1, Math.floor(width0 * shrink));
    const h = Math.max(1, Math.floor(height0 * shrink));
    pipeline = pipeline.resize({ width: w, height: h, fit: 'fill', kernel: 'lanczos3' });
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline
      .flatten({ background })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw await explainUnreadable(file, (e as Error).message);
  }
  const { data, info } = out;
  if (info.channels !== 3) throw new MediaError('not-image', `${file} decoded to ${info.channels} channels where RGB (3) was expected`, file);
  if (shrink < 1) warnings.push(`${file} is ${width0}×${height0}; it was downscaled to ${info.width}×${info.height} while decoding (memory budget ${mp(maxPixels)})`);
  return {
    data,
    width: info.width,
    height: info.height,
    file,
    format: meta.format,
    sourceWidth: width0,
    sourceHeight: height0,
    orientation: meta.orientation ?? 1,
    hadAlpha: meta.hasAlpha,
    scale: info.width / width0,
    warnings,
  };
}
