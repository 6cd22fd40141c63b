// Speech front-ends: what turns a job's 16 kHz audio into speech features aligned to its video frames
// ([Tvideo, width], the speech encoder's input; width = ReFreeConfig.speechDim). Two kinds:
// - 'log-mel': computed here in TypeScript (mel.ts); no weights; the built-in demo model uses it.
// - 'wav2vec2': a wav2vec2 ONNX component from the model package (wav2vec2.ts); the 5B preset uses it.
import { alignToVideo } from './align.js';
import type { Resample } from './align.js';
import { DEFAULT_MEL, logMelSpectrogram } from './mel.js';
import type { MelConfig } from './mel.js';
import { wav2vec2FeatureWidth } from './wav2vec2.js';
import type { Wav2Vec2FrontEnd } from './wav2vec2.js';

export interface MelFrontEnd {
  kind: 'log-mel';
  mel: MelConfig;
  /** Sub-steps per video frame: at 15 fps, 4 keeps 16.7 ms resolution (mel frames are 10 ms apart). */
  context: number;
  resample: Resample;
}

export const DEFAULT_MEL_FRONT_END: MelFrontEnd = { kind: 'log-mel', mel: DEFAULT_MEL, context: 4, resample: 'area' };

export type SpeechFrontEnd = MelFrontEnd | Wav2Vec2FrontEnd;

/** Width of one aligned row (the speech encoder's speechDim). */
export function frontEndWidth(fe: SpeechFrontEnd): number {
  return fe.kind === 'log-mel' ? fe.mel.nMels * fe.context : wav2vec2FeatureWidth(fe);
}

/** Log-mel features of `audio` aligned to `videoFrames` rows at `fps`: [videoFrames, nMels·context]. */
export function melFeatures(audio: Float32Array, fe: MelFrontEnd, fps: number, videoFrames: number): Float32Array {
  const m = logMelSpectrogram(audio, fe.mel);
  return alignToVideo({ data: m.data, frames: m.frames, channels: m.nMels, rate: m.rate, offset: m.offset }, { fps, videoFrames, context: fe.context, resample: fe.resample });
}
