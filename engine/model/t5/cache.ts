// On-disk cache of prompt embeddings, so that a fixed prompt (and the fixed negative prompt) costs one
// umT5 run per model, not one per video (wan2.2-ti2v-5b.md §3 "Prompts in practice").
//
// One safetensors file per (model hash, variant, prompt) in the model package's cache folder:
//   <cacheDir>/text-context/<sha256 hex>.safetensors
//     embedding  F32 [L, dim]   the trimmed encoder output (L = real tokens incl. EOS)
//     tokens     I64 [L]        the real token ids
//     __metadata__: format, modelHash, variant, prompt, cleaned, truncated
// The key hashes all three; the metadata repeats them and a read checks them, so a hash collision or a
// file copied between packages can never return another prompt's embedding. A file that fails to
// parse or does not match is a miss (and is overwritten by the next put).
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../weights/safetensors.js';

export const PROMPT_CACHE_FORMAT = 'refree-t5-prompt/1';

export interface PromptEmbedding {
  prompt: string;
  /** The prompt after Wan's cleaning. */
  cleaned: string;
  /** Real tokens, EOS included: the row count of `embedding`. */
  length: number;
  dim: number;
  /** [length, dim] row-major: Wan's `u[:v]`, before zero-padding to text_len. */
  embedding: Float32Array;
  /** The `length` real token ids. */
  tokens: number[];
  truncated: boolean;
  /** Whether it came from the cache instead of a T5 run. */
  fromCache: boolean;
}

export class PromptCache {
  readonly dir: string;

  /**
   * `variant` names everything besides the weights that changes the numbers (text length, compute
   * dtype, cleaning version); the encoder builds it.
   */
  constructor(cacheDir: string, readonly modelHash: string, readonly variant: string) {
    if (!modelHash) throw new Error('PromptCache needs the model hash (the T5 weights’ identity)');
    this.dir = path.join(cacheDir, 'text-context');
  }

  keyOf(prompt: string): string {
    return createHash('sha256').update(`${PROMPT_CACHE_FORMAT}\0${this.modelHash}\0${this.variant}\0${prompt}`, 'utf8').digest('hex');
  }

  fileOf(prompt: string): string {
    return path.join(this.dir, `${this.keyOf(prompt)}.safetensors`);
  }

  async get(prompt: string): Promise<PromptEmbedding | null> {
    let f: SafetensorsFile;
    try {
      f = await SafetensorsFile.open(this.fileOf(prompt));
    } catch {
      return null; // absent or unreadable: a miss
    }
    try {
      const m = f.metadata;
      if (m.format !== PROMPT_CACHE_FORMAT || m.modelHash !== this.modelHash || m.variant !== this.variant || m.prompt !== prompt) return null;
      if (!f.has('embedding') || !f.has('tokens')) return null;
      const e = f.info('embedding');
      const t = f.info('tokens');
      if (e.dtype !== 'F32' || e.shape.length !== 2 || t.dtype !== 'I64' || t.shape.length !== 1 || t.shape[0] !== e.shape[0]) return null;
      const embedding = (await f.read('embedding')) as Float32Array;
      const tokens = Array.from(await f.read('tokens') as BigInt64Array, Number);
      return { prompt, cleaned: m.cleaned ?? '', length: e.shape[0]!, dim: e.shape[1]!, embedding, tokens, truncated: m.truncated === 'true', fromCache: true };
    } catch {
      return null;
    } finally {
      await f.close();
    }
  }

  async put(e: PromptEmbedding): Promise<string> {
    if (e.embedding.length !== e.length * e.dim || e.tokens.length !== e.length) throw new RangeError('PromptCache.put: embedding, tokens and length disagree');
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(e.prompt);
    await writeSafetensors(
      file,
      [
        { name: 'embedding', dtype: 'F32', shape: [e.length, e.dim], data: e.embedding },
        { name: 'tokens', dtype: 'I64', shape: [e.length], data: BigInt64Array.from(e.tokens, BigInt) },
      ],
      { metadata: { format: PROMPT_CACHE_FORMAT, modelHash: this.modelHash, variant: this.variant, prompt: e.prompt, cleaned: e.cleaned, truncated: String(e.truncated) } },
    );
    return file;
  }
}
