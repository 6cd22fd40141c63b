// The wav2vec2 speech front-end: wav2vec2 turns 16 kHz speech into hidden states at 50 Hz; we pick
// some layers, combine them, and align them to the video frames. The network comes either from the
// Hugging Face checkpoint itself (model.safetensors / pytorch_model.bin + config.json, built by our
// graph language in wav2vec2-graph.ts; no export step) or from an ONNX export.
//
// ONNX contract (what an exporter must produce; the graph route produces the same names):
//   input  `input_values`      float32 [1, samples]   (zero-mean, unit-variance over the whole clip
//                                                       when normalizeInput, as Wav2Vec2FeatureExtractor
//                                                       with do_normalize=True for wav2vec2-base-960h)
//   output `hidden_states.{i}` float32 [1, frames, hiddenSize] for each i in `layers`
//                                                      (i = 0: the feature projection; i = n: last layer)
// The conv feature extractor (kernels 10,3,3,3,3,2,2, strides 5,2,2,2,2,2,2) gives 400-sample frames
// every 320 samples: frames = floor((samples − 400)/320) + 1, frame j centred at (320 j + 200)/16000 s.
//
// Long audio runs in fixed-size chunks with context on both sides (one static-shape session for any
// length; memory stays flat): each run sees `context + chunk + context` seconds and keeps the chunk's
// own frames. wav2vec2's transformer attends globally and its positional conv spans 128 frames
// (±1.28 s), so chunking changes the states slightly; a context of 2 s covers the positional conv.
import { CompiledGraph } from '../../runtime/session.js';
import type { Backend } from '../../runtime/session.js';
import { alignToVideo } from './align.js';
import { buildWav2Vec2Graph } from './wav2vec2-graph.js';
import type { Wav2Vec2Checkpoint } from './wav2vec2-weights.js';
import { isWav2Vec2Checkpoint, openWav2Vec2Checkpoint } from './wav2vec2-weights.js';
import type { FeatureSeries, Resample } from './align.js';

export interface Wav2Vec2FrontEnd {
  kind: 'wav2vec2';
  /** For model cards: where the weights came from. */
  model: string;
  sampleRate: 16000;
  hiddenSize: number;
  /** Hidden-state indices to use. */
  layers: readonly number[];
  /** 'concat': width layers·hiddenSize; 'mean': hiddenSize. */
  combine: 'concat' | 'mean';
  normalizeInput: boolean;
  inputName: string;
  /** Output name per layer; `{i}` is replaced by the layer index. */
  outputPattern: string;
  /** How the 50 Hz states reach the video frames (speech/align.ts). */
  resample: Resample;
  /** Sub-steps per video frame. */
  context: number;
  chunkSeconds: number;
  contextSeconds: number;
}

/**
 * Default (REFREE_5B's speechDim 2304): wav2vec2-base-960h (FantasyTalking's encoder, the one
 * Wan-based talking-head system on a base-size model), hidden states 4, 8 and 12 concatenated. The
 * last layer of this CTC-fine-tuned model is the most phonetic (lips); lower layers keep more prosody
 * and speaker information (expressions), which the multi-level encoder can use; its in_proj learns
 * the mix. Area resampling (one row per 15 fps frame averages its 3.3 states, none are skipped).
 */
export const WAV2VEC2_BASE_960H: Wav2Vec2FrontEnd = {
  kind: 'wav2vec2',
  model: 'facebook/wav2vec2-base-960h',
  sampleRate: 16000,
  hiddenSize: 768,
  layers: [4, 8, 12],
  combine: 'concat',
  normalizeInput: true,
  inputName: 'input_values',
  outputPattern: 'hidden_states.{i}',
  resample: 'area',
  context: 1,
  chunkSeconds: 20,
  contextSeconds: 2,
};

export const WAV2VEC2_HOP = 320;
export const WAV2VEC2_RECEPTIVE = 400;
export const WAV2VEC2_RATE = 50;
/** Time of frame 0's centre: 200 samples at 16 kHz. */
export const WAV2VEC2_OFFSET = WAV2VEC2_RECEPTIVE / 2 / 16000;

export function wav2vec2FrameCount(samples: number): number {
  return samples < WAV2VEC2_RECEPTIVE ? 0 : Math.floor((samples - WAV2VEC2_RECEPTIVE) / WAV2VEC2_HOP) + 1;
}

/** Width of one aligned row: (layers·hidden or hidden)·context. */
export function wav2vec2FeatureWidth(c: Wav2Vec2FrontEnd): number {
  return (c.combine === 'concat' ? c.layers.length * c.hiddenSize : c.hiddenSize) * c.context;
}

/** Combines per-layer states (each [frames, hidden]) into one 50 Hz series per the config. */
export function combineHiddenStates(c: Wav2Vec2FrontEnd, states: readonly Float32Array[], frames: number): FeatureSeries {
  const H = c.hiddenSize;
  if (states.length !== c.layers.length) throw new RangeError(`${states.length} hidden states given, the config uses layers [${c.layers.join(',')}]`);
  states.forEach((s, i) => {
    if (s.length !== frames * H) throw new RangeError(`hidden state ${c.layers[i]} has ${s.length} values, ${frames}×${H} expected`);
  });
  const C = c.combine === 'concat' ? states.length * H : H;
  const data = new Float32Array(frames * C);
  for (let t = 0; t < frames; t++) {
    states.forEach((s, li) => {
      for (let h = 0; h < H; h++) {
        const v = s[t * H + h]!;
        if (c.combine === 'concat') data[t * C + li * H + h] = v;
        else data[t * C + h] = data[t * C + h]! + v / states.length;
      }
    });
  }
  return { data, frames, channels: C, rate: WAV2VEC2_RATE, offset: WAV2VEC2_OFFSET };
}

/** Aligns per-layer hidden states (each [frames, hidden] at 50 Hz) to video frames: [videoFrames, width]. */
export function alignHiddenStates(c: Wav2Vec2FrontEnd, states: readonly Float32Array[], frames: number, fps: number, videoFrames: number): Float32Array {
  return alignToVideo(combineHiddenStates(c, states, frames), { fps, videoFrames, context: c.context, resample: c.resample });
}

function chunkGeometry(c: Wav2Vec2FrontEnd): { body: number; ctx: number } {
  const body = Math.round(c.chunkSeconds * c.sampleRate);
  const ctx = Math.round(c.contextSeconds * c.sampleRate);
  if (body < WAV2VEC2_HOP || body % WAV2VEC2_HOP !== 0 || ctx < WAV2VEC2_HOP || ctx % WAV2VEC2_HOP !== 0) {
    throw new RangeError(`wav2vec2 chunk ${c.chunkSeconds} s and context ${c.contextSeconds} s must be positive multiples of 20 ms`);
  }
  return { body, ctx };
}

export interface Wav2Vec2RunOptions {
  backend?: Backend;
}

/** What runs wav2vec2: an ONNX export (path or bytes), a Hugging Face checkpoint path, or an opened checkpoint. */
export type Wav2Vec2Model = string | Uint8Array | Wav2Vec2Checkpoint;

async function openSession(model: Wav2Vec2Model, c: Wav2Vec2FrontEnd, window: number, windowFrames: number, opts: Wav2Vec2RunOptions): Promise<CompiledGraph> {
  const ckpt = typeof model === 'string' && isWav2Vec2Checkpoint(model) ? await openWav2Vec2Checkpoint(model) : typeof model === 'object' && !(model instanceof Uint8Array) ? model : null;
  if (ckpt) {
    if (ckpt.config.hiddenSize !== c.hiddenSize) throw new RangeError(`${ckpt.file} has hidden size ${ckpt.config.hiddenSize}, the speech front-end expects ${c.hiddenSize}`);
    const g = buildWav2Vec2Graph(ckpt.config, ckpt.provider, window, { layers: c.layers, outputPattern: c.outputPattern, inputName: c.inputName });
    return CompiledGraph.fromGraph(g, { backend: opts.backend });
  }
  const outputs = c.layers.map((i) => ({ name: c.outputPattern.replace('{i}', String(i)), dtype: 'float32' as const, shape: [1, windowFrames, c.hiddenSize] }));
  return CompiledGraph.fromBytes(model as string | Uint8Array, [{ name: c.inputName, dtype: 'float32', shape: [1, window] }], outputs, { backend: opts.backend });
}

/**
 * Runs wav2vec2 over `audio` (16 kHz mono) in chunks and returns the selected hidden states, each
 * [frames, hidden] with frames = ceil(samples / 320) (frame j centred at 20 j + 12.5 ms; frames past
 * the audio see zero padding).
 */
export async function runWav2Vec2(model: Wav2Vec2Model, audio: Float32Array, c: Wav2Vec2FrontEnd, opts: Wav2Vec2RunOptions = {}): Promise<{ states: Float32Array[]; frames: number }> {
  const { body, ctx } = chunkGeometry(c);
  const H = c.hiddenSize;
  const window = body + 2 * ctx;
  const windowFrames = wav2vec2FrameCount(window);
  const total = Math.max(1, Math.ceil(audio.length / WAV2VEC2_HOP));
  let x = audio;
  if (c.normalizeInput) {
    let mean = 0;
    for (const v of audio) mean += v;
    mean /= Math.max(1, audio.length);
    let v2 = 0;
    for (const v of audio) v2 += (v - mean) ** 2;
    const inv = 1 / Math.sqrt(v2 / Math.max(1, audio.length) + 1e-7); // HF's zero_mean_unit_var_norm
    x = Float32Array.from(audio, (v) => (v - mean) * inv);
  }
  const outputs = c.layers.map((i) => ({ name: c.outputPattern.replace('{i}', String(i)) }));
  const session = await openSession(model, c, window, windowFrames, opts);
  const states = c.layers.map(() => new Float32Array(total * H));
  try {
    const input = new Float32Array(window);
    const bodyFrames = body / WAV2VEC2_HOP;
    const skip = ctx / WAV2VEC2_HOP; // window frame j is global frame (start − ctx)/320 + j
    for (let start = 0; start / WAV2VEC2_HOP < total; start += body) {
      input.fill(0);
      const from = start - ctx;
      const lo = Math.max(0, from);
      const hi = Math.min(x.length, from + window);
      if (hi > lo) input.set(x.subarray(lo, hi), lo - from);
      const res = await session.run({ [c.inputName]: input });
      const first = start / WAV2VEC2_HOP;
      const keep = Math.min(bodyFrames, total - first);
      outputs.forEach((o, li) => {
        const data = res[o.name] as Float32Array;
        if (data.length !== windowFrames * H) throw new RangeError(`wav2vec2 output ${o.name} has ${data.length} values, [1, ${windowFrames}, ${H}] expected for a ${window}-sample window`);
        states[li]!.set(data.subarray(skip * H, (skip + keep) * H), first * H);
      });
    }
  } finally {
    await session.release();
  }
  return { states, frames: total };
}

/** Speech features for a job: wav2vec2 states aligned to `videoFrames` rows at `fps`: [videoFrames, width]. */
export async function wav2vec2Features(model: Wav2Vec2Model, audio: Float32Array, c: Wav2Vec2FrontEnd, fps: number, videoFrames: number, opts: Wav2Vec2RunOptions = {}): Promise<Float32Array> {
  const { states, frames } = await runWav2Vec2(model, audio, c, opts);
  return alignHiddenStates(c, states, frames, fps, videoFrames);
}
