// How much contrast a prepared clip's face has, and how much more its face and lips should weigh in the
// DiT's loss because of it (SftSettings.faceBalance). The latent of a dark-skinned face carries its
// eyes, brows and lips as small differences (their contrast with the skin is small in absolute terms),
// so a squared velocity error counts a blurred dark face less than a blurred light one; raising faint
// faces' regional weights asks the DiT for the same care on every skin tone. The measure is the one the
// VAE's detail weight uses (vae/data.ts, DETAIL_REFERENCE), taken on the clip's reference portrait.
// On refree-mini it did not bring the darker faces back: the VAE already loses their lip line
// (docs/TRAINING.md, "Every skin tone").
import path from 'node:path';
import { loadImage } from '../media/image-input.js';
import { faintnessBoost, lumaEdges, meanInside } from './vae/data.js';
import type { TrainData } from './data.js';
import { TrainDataError } from './data.js';
import { clipDir } from './prepare/cache.js';
import { REF_FILE } from './prepare/types.js';

/**
 * Mean luma gradient inside the face of a square portrait (RGB24, size²), over the pixels of the latent
 * cells that lie wholly inside the face (`faceMask`, h·w coverage fractions): the face's outline against
 * the background, in the cells it crosses, is not the face's own contrast.
 */
export function portraitFaceContrast(rgb: Uint8Array, size: number, faceMask: Float32Array, h: number, w: number): number {
  if (rgb.length !== size * size * 3) throw new RangeError(`a ${size}×${size} RGB portrait has ${size * size * 3} bytes, got ${rgb.length}`);
  if (faceMask.length < h * w || size % h !== 0 || size % w !== 0) throw new RangeError(`a ${h}×${w} face mask does not tile a ${size}-pixel portrait`);
  const inside = new Float32Array(size * size);
  const cy = size / h;
  const cx = size / w;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) inside[y * size + x] = faceMask[Math.floor(y / cy) * w + Math.floor(x / cx)]! >= 0.99 ? 1 : 0;
  return meanInside(lumaEdges(rgb, size), inside);
}

/** The factor on a face's regional weights: (reference / contrast)², between 1 and `most`. */
export function faintFaceBoost(contrast: number, most: number): number {
  if (!(contrast > 1e-6)) return 1;
  return Math.max(1, faintnessBoost(contrast, most));
}

/** portraitFaceContrast of a PNG file (the prepared clip's ref.png). */
export async function pngFaceContrast(file: string, faceMask: Float32Array, h: number, w: number): Promise<number> {
  const img = await loadImage(file);
  if (img.width !== img.height) throw new RangeError(`${file} is ${img.width}×${img.height}; a prepared portrait is square`);
  return portraitFaceContrast(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length), img.width, faceMask, h, w);
}

/** faintFaceBoost of every clip of a prepared dataset, from each clip's reference portrait and first face mask. */
export async function datasetFaceBoosts(datasetDir: string, packageHash: string, data: TrainData, most: number): Promise<Float32Array> {
  const out = new Float32Array(data.clips.length);
  const hw = data.h * data.w;
  for (const [i, clip] of data.clips.entries()) {
    const file = path.join(clipDir(datasetDir, packageHash, clip.id), REF_FILE);
    const contrast = await pngFaceContrast(file, clip.faceMask.subarray(0, hw), data.h, data.w).catch((e: Error) => {
      throw new TrainDataError(`the reference portrait of clip "${clip.id}" (${file}) cannot be read (${e.message}): prepare the clips again`);
    });
    out[i] = faintFaceBoost(contrast, most);
  }
  return out;
}
