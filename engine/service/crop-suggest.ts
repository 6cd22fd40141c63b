// media.suggestCrop: the initial crop box for a portrait, from engine/media/face-crop.ts's face
// detection (largest face, 1.8× margin; a centred square with a warning when no face is found). The
// detector takes about half a second to load, so the service keeps one and passes it in.
import { cropFace } from '../media/face-crop.js';
import type { FaceDetector } from '../media/face-detector.js';
import { MediaError } from '../media/errors.js';
import type { LoadedImage } from '../media/image-input.js';
import { loadImage } from '../media/image-input.js';
import type { CropSuggestion } from './contract.js';
import { ServiceError } from './errors.js';

export async function suggestCrop(file: string, detector: FaceDetector): Promise<CropSuggestion> {
  let img: LoadedImage;
  try {
    img = await loadImage(file);
  } catch (e) {
    if (e instanceof MediaError) throw new ServiceError(e.code === 'not-found' ? 'not-found' : 'bad-input', `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`);
    throw e;
  }
  // Only the box is wanted: a tiny output keeps the resize cheap.
  const r = await cropFace(img, { size: 8, detector });
  // loadImage may have downscaled a huge picture; the box is wanted in the stored picture's pixels.
  const s = img.scale;
  const size = Math.max(8, Math.min(img.sourceWidth, img.sourceHeight, Math.round(r.box.size / s)));
  const x = Math.min(Math.max(0, Math.round(r.box.x / s)), img.sourceWidth - size);
  const y = Math.min(Math.max(0, Math.round(r.box.y / s)), img.sourceHeight - size);
  const warnings = r.warnings.filter((w) => !w.startsWith('the crop is '));
  const out: CropSuggestion = { box: { x: Math.max(0, x), y: Math.max(0, y), size }, faceFound: r.source === 'face' };
  if (warnings.length) out.warning = warnings.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('. ') + '.';
  return out;
}
