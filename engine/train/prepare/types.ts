// The shapes of clip preparation (DESIGN 13): what `refree train prepare` reads, writes and reports.
//
//   <out>/dataset.json                                  DatasetManifest (every source clip, accepted or refused)
//   <out>/cache/<first 12 hex of package hash>/<clip>/  one accepted clip for that model:
//       data.safetensors   latents [C, F, h, w], speech [Tv, speechDim], lip_mask / face_mask [F, h, w], all F32
//       clip.json          ClipInfo (source, frames, crop track summary, mask source, fingerprint)
//       ref.png            the first cropped frame (the reference portrait), for previews
//
// The cache is keyed by the model package's hash: latents and speech features depend on the model's VAE
// and front-end, so another model never reuses them (its clips go to another cache folder beside).

export const DATASET_FORMAT = 'refree-dataset/1';
export const CLIP_FORMAT = 'refree-prepared-clip/1';
export const DATASET_FILE = 'dataset.json';
export const CLIP_FILE = 'clip.json';
export const DATA_FILE = 'data.safetensors';
export const REF_FILE = 'ref.png';
export const CACHE_DIR = 'cache';

/** Training frame rate (the paper's 15 fps). */
export const PREPARE_FPS = 15;
/** Shortest clip accepted: 17 frames (4·4 + 1, five latent frames), about 1.1 s at 15 fps. */
export const MIN_FRAMES = 17;
/** Longer clips are cut to this many seconds, with a warning. */
export const DEFAULT_MAX_SECONDS = 120;
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.mkv', '.webm', '.m4v', '.avi'] as const;

export class PrepareError extends Error {
  override name = 'PrepareError';
}

export interface PrepareOptions {
  /** Folder of source clips (its video files, not sub-folders). */
  input: string;
  /** Model package folder. */
  model: string;
  /** Dataset folder (default: the input folder itself). */
  out?: string;
  /** Square training size in pixels (default: the package's generation size). */
  size?: number;
  /** Longest clip used, seconds (default 120): longer ones are cut with a warning. */
  maxSeconds?: number;
  /** Face detection on every k-th frame (default 3: five detections a second). */
  detectEvery?: number;
  signal?: AbortSignal;
  onEvent?: (e: PrepareEvent) => void;
}

/** probe: streams and speech; track: face detection; encode: crop, masks and VAE latents; write: the cache. */
export type PrepareStage = 'probe' | 'track' | 'encode' | 'write';

export type PrepareEvent =
  | { type: 'start'; clips: number; model: string; modelHash: string; size: number; out: string }
  | { type: 'clip'; index: number; clips: number; id: string; source: string }
  | { type: 'stage'; id: string; stage: PrepareStage; message: string }
  | { type: 'warning'; id: string; message: string }
  | {
      type: 'progress';
      /** Seconds of source video done / in all clips (the unit work is measured in). */
      done: number;
      total: number;
      fraction: number;
      clip: number;
      clips: number;
      id: string;
      stage: PrepareStage;
      elapsedS: number;
      /** Seconds left at the current rate (null until some work is done). */
      etaS: number | null;
    }
  | { type: 'clip-done'; id: string; status: ClipStatus; cached: boolean; reason?: string; seconds?: number };

export type ClipStatus = 'accepted' | 'refused';

export interface DatasetClip {
  id: string;
  /** Absolute path of the source video. */
  source: string;
  status: ClipStatus;
  /** Why it was refused (a sentence). */
  reason?: string;
  /** Video frames used (4n+1), latent frames, and their length in seconds. */
  frames?: number;
  latentFrames?: number;
  seconds?: number;
  /** Source size, mtime and settings, hashed: a clip whose fingerprint is unchanged is not prepared again. */
  fingerprint?: string;
  warnings?: string[];
}

export interface DatasetManifest {
  format: typeof DATASET_FORMAT;
  created: string;
  /** The model package the cache was made for: its name, folder, and the preparation key of its VAE
   *  and speech front-end (pipeline/model.ts preparationHash): any package sharing those can use it. */
  model: { name: string; dir: string; hash: string };
  /** The cache folder of this model, relative to the dataset folder. */
  cache: string;
  size: number;
  fps: number;
  latent: { channels: number; height: number; width: number; stride: number };
  speechDim: number;
  input: string;
  clips: DatasetClip[];
}

export interface CropBox {
  x: number;
  y: number;
  size: number;
}

export interface TrackSummary {
  /** 'fixed': one crop for the whole clip (the head barely moves); 'tracked': the crop follows the smoothed face track. */
  mode: 'fixed' | 'tracked';
  /** Frames the detector ran on, and how many of them had a face. */
  sampled: number;
  found: number;
  detectEvery: number;
  /** Crop side in source pixels (constant over the clip). */
  cropSize: number;
  /** Largest distance of the smoothed face centre from its median, as a fraction of the crop side. */
  motion: number;
  /** Source frame size. */
  sourceWidth: number;
  sourceHeight: number;
  /** Crop box of the first, middle and last frame (source pixels). */
  first: CropBox;
  middle: CropBox;
  last: CropBox;
}

export interface ClipInfo {
  format: typeof CLIP_FORMAT;
  id: string;
  source: string;
  fingerprint: string;
  modelHash: string;
  size: number;
  fps: number;
  /** Video frames kept (the longest 4n+1 prefix) and latent frames. */
  frames: number;
  latentFrames: number;
  /** frames / fps. */
  duration: number;
  /** Length of the source video (after the maxSeconds cut), seconds, and its frames at 15 fps. */
  sourceDuration: number;
  sourceFrames: number;
  latentShape: [number, number, number, number];
  speechDim: number;
  track: TrackSummary;
  masks: { source: 'landmarks' | 'truth'; truthFile?: string; landmarkFrames?: number; lipMean: number; faceMean: number };
  audio: { rmsDb: number; duration: number };
  warnings: string[];
}

export interface PreparedClip {
  id: string;
  /** Normalised latents [C, F, h, w]. */
  latents: Float32Array;
  latentShape: [number, number, number, number];
  /** Speech features [Tv, speechDim], Tv = frames. */
  speech: Float32Array;
  speechDim: number;
  /** [F, h, w] in 0..1. */
  lipMask: Float32Array;
  faceMask: Float32Array;
  /** Video frames (4(F−1)+1). */
  frames: number;
  info: ClipInfo;
}
