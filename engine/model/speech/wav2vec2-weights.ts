// Reads a wav2vec2 checkpoint in the Hugging Face layout: `model.safetensors` or `pytorch_model.bin`
// (a torch.save zip), with its config.json beside it. Keys may carry Wav2Vec2ForCTC's `wav2vec2.`
// prefix; the positional conv's weight norm is stored as `weight_g` / `weight_v` (older exports) or
// `parametrizations.weight.original0` / `original1` (torch's parametrize, newer exports). Heads and
// training parts (lm_head, masked_spec_embed, quantizer, project_q/hid) are not part of the encoder and
// are reported as unused, not errors.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { toF32 } from '../weights/dtypes.js';
import { PthFile } from '../weights/pth.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import type { WeightEntry } from '../weight-provider.js';
import { MapWeightProvider } from '../weight-provider.js';
import type { Wav2Vec2Config } from './wav2vec2-graph.js';
import { WAV2VEC2_BASE, wav2vec2ConfigFromHf, wav2vec2Params } from './wav2vec2-graph.js';

export class Wav2Vec2CheckpointError extends Error {
  override name = 'Wav2Vec2CheckpointError';
}

export interface Wav2Vec2Checkpoint {
  file: string;
  config: Wav2Vec2Config;
  /** Where the config came from: the config.json beside the file, or the wav2vec2-base default. */
  configSource: string;
  provider: MapWeightProvider;
  /** Keys in the file that the encoder does not use (heads, training parts). */
  unused: string[];
}

const PARAMETRIZED: Readonly<Record<string, string>> = {
  'encoder.pos_conv_embed.conv.parametrizations.weight.original0': 'encoder.pos_conv_embed.conv.weight_g',
  'encoder.pos_conv_embed.conv.parametrizations.weight.original1': 'encoder.pos_conv_embed.conv.weight_v',
};

/** Whether a path names a checkpoint this module reads (rather than an ONNX export). */
export function isWav2Vec2Checkpoint(file: string): boolean {
  return /\.(safetensors|bin|pth|pt)$/i.test(file);
}

/** Opens the checkpoint (every tensor read as float32) and its config. */
export async function openWav2Vec2Checkpoint(fileIn: string, opts: { config?: Wav2Vec2Config } = {}): Promise<Wav2Vec2Checkpoint> {
  const file = path.resolve(fileIn);
  let config = opts.config;
  let configSource = 'given';
  if (!config) {
    const cfgFile = path.join(path.dirname(file), 'config.json');
    const text = await readFile(cfgFile, 'utf8').catch(() => null);
    if (text === null) {
      config = WAV2VEC2_BASE;
      configSource = 'wav2vec2-base (no config.json beside the weights)';
    } else {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new Wav2Vec2CheckpointError(`${cfgFile}: not valid JSON (${(e as Error).message})`);
      }
      config = wav2vec2ConfigFromHf(json, cfgFile);
      configSource = cfgFile;
    }
  }

  const h = file.toLowerCase().endsWith('.safetensors') ? await SafetensorsFile.open(file) : await PthFile.open(file);
  try {
    const keys = h.tensors().map((t) => t.name);
    const prefix = keys.some((k) => k.startsWith('wav2vec2.')) ? 'wav2vec2.' : '';
    const specs = new Map(wav2vec2Params(config).map((p) => [p.name, p.shape]));
    const entries = new Map<string, WeightEntry>();
    const unused: string[] = [];
    for (const t of h.tensors()) {
      const bare = t.name.startsWith(prefix) ? t.name.slice(prefix.length) : t.name;
      const name = PARAMETRIZED[bare] ?? bare;
      if (!specs.has(name)) {
        unused.push(t.name);
        continue;
      }
      const data = Float32Array.from(toF32(t.dtype, await h.readBytes(t.name)));
      entries.set(name, { dtype: 'float32', shape: [...t.shape], data: { kind: 'inline', data } });
    }
    const missing = [...specs.keys()].filter((n) => !entries.has(n));
    if (missing.length) {
      throw new Wav2Vec2CheckpointError(
        `${file}: ${missing.length} wav2vec2 parameter(s) missing (${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}); ` +
          `is this a Hugging Face wav2vec2 checkpoint matching ${configSource}?`,
      );
    }
    return { file, config, configSource, provider: new MapWeightProvider(entries, file), unused: unused.sort() };
  } finally {
    await h.close();
  }
}
