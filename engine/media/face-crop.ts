// The portrait's square crop around the face, resized to the model's size (DESIGN 6). The crop box is
// part of the result so that the UI can draw it and let the person move or resize it; a box given back
// (`box`) replaces detection. With no face found the crop is the largest centred square, with a warning.
import sharp from 'sharp';
import { MediaError } from './errors.js';
import { blazeFaceDetector, type FaceBox, type FaceDetector } from './face-detector.js';
import type { RgbImage } from './image-input.js';

/** A square in the pixel coordinates of the image that was cropped (integers, inside the image). */
export interface CropBox {
  x: number;
  y: number;
  size: number;
}

export interface FaceCropOptions {
  /** Side of the output square in pixels (the model's input size). */
  size: number;
  /** Crop side as a multiple of the detected face box's longer side (default 1.8: face, hair, neck). */
  margin?: number;
  /** A crop chosen by the person: used as is (validated), detection is skipped. */
  box?: CropBox;
  /** Detector to use (default: the shared BlazeFace detector). */
  detector?: FaceDetector;
}

export interface FaceCropResult {
  /** size × size RGB. */
  image: RgbImage;
  box: CropBox;
  /** The same box as fractions of the image's width and height, for a UI showing it at another scale. */
  boxNormalized: { x: number; y: number; width: number; height: number };
  /** How the box was chosen. */
  source: 'face' | 'center' | 'manual';
  /** The face the crop is centred on (null for a centre or manual crop). */
  face: FaceBox | null;
  /** Every face found (empty for a manual crop, which runs no detection). */
  faces: FaceBox[];
  warnings: string[];
}

/** The largest centred square. */
export function centerCrop(width: number, height: number): CropBox {
  const size = Math.min(width, height);
  return { x: Math.floor((width - size) / 2), y: Math.floor((height - size) / 2), size };
}

/**
 * The square of side margin × (face's longer side) centred on the face, made to fit: shrunk to the
 * image's shorter side if larger, then shifted (not shrunk further) to lie inside the image.
 */
export function faceCrop(width: number, height: number, face: FaceBox, margin = 1.8): CropBox {
  const size = Math.max(1, Math.min(width, height, Math.round(Math.max(face.width, face.height) * margin)));
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  const clamp = (v: number, hi: number): number => Math.min(Math.max(0, v), hi);
  return { x: clamp(Math.round(cx - size / 2), width - size), y: clamp(Math.round(cy - size / 2), height - size), size };
}

/** Checks a crop box given from outside (the UI): integers, positive, inside the image. */
export function validateCropBox(box: CropBox, width: number, height: number): CropBox {
  const { x, y, size } = box;
  if (![x, y, size].every(Number.isInteger)) throw new MediaError('bad-crop', `crop box ${JSON.stringify(box)} must have whole-pixel x, y and size`);
  if (size < 1) throw new MediaError('bad-crop', `crop box size must be at least 1 pixel (got ${size})`);
  if (x < 0 || y < 0 || x + size > width || y + size > height) {
    throw new MediaError('bad-crop', `crop box x=${x} y=${y} size=${size} goes outside the ${width}×${height} image; keep x+size ≤ ${width} and y+size ≤ ${height}`);
  }
  return { x, y, size };
}

export async function cropFace(img: RgbImage, opts: FaceCropOptions): Promise<FaceCropResult> {
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new MediaError('bad-crop', `the crop size must be a positive whole number of pixels (got ${opts.size})`);
  const warnings: string[] = [];
  let box: CropBox;
  let source: FaceCropResult['source'];
  let face: FaceBox | null = null;
  let faces: FaceBox[] = [];
  if (opts.box) {
    box = validateCropBox(opts.box, img.width, img.height);
    source = 'manual';
  } else {
    const detector = opts.detector ?? (await blazeFaceDetector());
    faces = await detector.detect(img);
    // The largest face is the subject; a small face in the background is not.
    face = faces.reduce<FaceBox | null>((best, f) => (!best || f.width * f.height > best.width * best.height ? f : best), null);
    if (face) {
      box = faceCrop(img.width, img.height, face, opts.margin);
      source = 'face';
      if (faces.length > 1) warnings.push(`${faces.length} faces found; the crop is centred on the largest — adjust the crop box to pick another`);
    } else {
      box = centerCrop(img.width, img.height);
      source = 'center';
      warnings.push('no face found in the portrait; using a centre crop — check that the face is inside the crop box and adjust it if not');
    }
  }
  if (box.size < opts.size) warnings.push(`the crop is ${box.size}×${box.size} pixels, smaller than the model's ${opts.size}×${opts.size}: it is upscaled and may look soft`);
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: box.x, top: box.y, width: box.size, height: box.size })
    .resize({ width: opts.size, height: opts.size, kernel: box.size > opts.size ? 'lanczos3' : 'cubic' })
    .raw()
    .toBuffer();
  return {
    image: { data, width: opts.size, height: opts.size },
    box,
    boxNormalized: { x: box.x / img.width, y: box.y / img.height, width: box.size / img.width, height: box.size / img.height },
    source,
    face,
    faces,
    warnings,
  };
}
