// The synthetic talking-face world: deterministic clips (speech, face, per-frame truth) for tests,
// the demo model, training and evaluation.
export * from './types.js';
export { renderClip, writeClip, renderPortrait, frameEnvelope, validateClipOptions } from './clip.js';
export type { Clip, ClipOptions, WrittenClip } from './clip.js';
export { rasterizeEllipse, scaleEllipse, growEllipse } from './masks.js';
export { makeIdentity, identityFields, HAIR_STYLES } from './face/identity.js';
export type { Identity } from './face/identity.js';
export { AvatarRenderer, NEUTRAL_POSE } from './face/avatar.js';
export type { FacePose } from './face/avatar.js';
export { makeVoice } from './speech/voice.js';
export type { Voice } from './speech/voice.js';
export { planUtterance, wordPool } from './speech/sentence.js';
export type { TimedPhone, Utterance, Word } from './speech/sentence.js';
export { synthesize, SAMPLE_RATE } from './speech/synth.js';
export { animate, visemeAt } from './motion.js';
export type { Motion, MotionStyle } from './motion.js';
export { rngFor, clipRng, hashString } from './rng.js';
export type { Rng, Split } from './rng.js';
