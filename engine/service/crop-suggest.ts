// media.suggestCrop: the initial crop box for a portrait — the detected face's box with a margin, in the
// stored picture's pixels — or, when no detection is confident enough, a centred square and a plain
// sentence saying no face was found. The detector takes about half a second to load, so the service
// keeps one and passes it in.
//
// The confidence threshold is measured, not guessed (crop-suggest.test.ts): BlazeFace scores the demo
// avatar 0.72 and a drawn cartoon face (two dots and a line on a disc) 0.44; noise, flat colours,
// stripes and a drawn landscape give no detection at all. 0.6 keeps real faces and drops the rest.
import { centerCrop, faceCrop } from '../media/face-crop.js';
import type { FaceBox, FaceDetector } from '../media/face-detector.js';
import { MediaError } from '../media/errors.js';
import type { LoadedImage } from '../media/image-input.js';
import { loadImage } from '../media/image-input.js';
import type { CropSuggestion } from './contract.js';
import { ServiceError } from './errors.js';

/** Detections scoring below this are not faces for the studio. */
export const FACE_MIN_SCORE = 0.6;
/** The suggested box is the face's longer side × this: the face with some hair and chin around it. */
export const SUGGEST_MARGIN = 1.3;

export async function suggestCrop(file: string, detector: FaceDetector): Promise<CropSuggestion> {
  let img: LoadedImage;
  try {
    img = await loadImage(file);
  } catch (e) {
    if (e instanceof MediaError) throw new ServiceError(e.code === 'not-found' ? 'not-found' : 'bad-input', `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`);
    throw e;
  }
  const all = await detector.detect(img);
  const best = all.reduce<FaceBox | null>((b, f) => (!b || f.score > b.score ? f : b), null);
  const faces = all.filter((f) => f.score >= FACE_MIN_SCORE);
  // The largest confident face is the subject; a small face in the background is not.
  const face = faces.reduce<FaceBox | null>((b, f) => (!b || f.width * f.height > b.width * b.height ? f : b), null);
  // loadImage may have downscaled a huge picture; the box is wanted in the stored picture's pixels.
  const s = img.scale;
  const toStored = (b: { x: number; y: number; size: number }): CropSuggestion['box'] => {
    const size = Math.max(8, Math.min(img.sourceWidth, img.sourceHeight, Math.round(b.size / s)));
    return { x: Math.max(0, Math.min(Math.round(b.x / s), img.sourceWidth - size)), y: Math.max(0, Math.min(Math.round(b.y / s), img.sourceHeight - size)), size };
  };
  if (!face) {
    const why = best ? ` (the closest match scored ${best.score.toFixed(2)}, below ${FACE_MIN_SCORE})` : '';
    return { box: toStored(centerCrop(img.width, img.height)), faceFound: false, score: best?.score ?? null, warning: `No face found in the portrait${why}. Move the box over the face by hand, or choose a photo where the face is clearly visible.` };
  }
  const out: CropSuggestion = { box: toStored(faceCrop(img.width, img.height, face, SUGGEST_MARGIN)), faceFound: true, score: face.score };
  if (faces.length > 1) out.warning = `${faces.length} faces found; the box is on the largest. Move it to pick another.`;
  return out;
}
