// The synthetic talking-face world's data contract: what a rendered clip's truth file holds. Plain data,
// no Node imports, so engine/eval, engine/train and the renderer can read it. A clip on disk is
// `<name>.mp4` (H.264 + AAC, 15 fps, 16 kHz speech) plus `<name>.json` (a ClipTruth).
//
// Coordinates are in the pixels of the rendered frame (`size` × `size`, origin top-left); per-frame
// arrays have exactly `frames` entries, frame i shown at time i / fps.

export const CLIP_TRUTH_FORMAT = 'refree-synth-clip/1';

/** An ellipse in frame pixels, rotated by `angle` radians (clockwise, image axes). */
export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  angle: number;
}

export type PhoneClass = 'vowel' | 'fricative' | 'plosive' | 'nasal' | 'approximant' | 'pause';

export interface PhoneEvent {
  /** Phoneme symbol (ARPAbet-like: 'AA', 'IY', 'UW', 'S', 'P', 'M', ... or 'sil'). */
  phone: string;
  cls: PhoneClass;
  /** Seconds. */
  start: number;
  end: number;
  /** Lexically stressed / pitch-accented syllable nucleus. */
  stressed: boolean;
}

export interface ClipTruth {
  format: typeof CLIP_TRUTH_FORMAT;
  /** The seed the clip was made from (identity, voice and sentence all derive from it and `split`). */
  seed: number;
  /** Which pool identities, voices and sentences come from: held-out ones never appear in training. */
  split: 'train' | 'heldout';
  fps: number;
  sampleRate: number;
  /** Square frame size in pixels. */
  size: number;
  frames: number;
  /** Seconds of audio (frames / fps, the audio is padded or cut to that). */
  duration: number;
  identity: { id: string; [param: string]: number | string };
  voice: { id: string; [param: string]: number | string };
  phones: PhoneEvent[];
  perFrame: {
    /** Lip opening 0 (closed) .. 1 (widest), the quantity lip-sync is measured on. */
    mouthOpen: number[];
    /** Relative mouth width −1 (pursed) .. 1 (spread); 0 neutral. */
    mouthWidth: number[];
    /** Lip rounding 0..1. */
    mouthRound: number[];
    /** Brow raise 0..1. */
    brow: number[];
    /** Head pose in degrees. */
    headYaw: number[];
    headPitch: number[];
    headRoll: number[];
    /** Eye closure 0 (open) .. 1 (closed). */
    blink: number[];
    /** Speech loudness envelope per frame, 0..1 (RMS of the frame's audio, normalised). */
    envelope: number[];
    /** Inner-mouth (dark opening + lips) region per frame. */
    lips: Ellipse[];
    /** Whole face (head ellipse without hair) per frame. */
    face: Ellipse[];
  };
}
