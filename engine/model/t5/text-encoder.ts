// Prompt → text context, the way Wan's T5EncoderModel.__call__ does it: tokenise (tokenizer.ts), run
// the umT5 encoder at the static text length, trim the output to the prompt's real token count
// (`[u[:v] for u, v in zip(context, seq_lens)]`). The DiT then takes the trimmed rows zero-padded back
// to text_len (`padContext`; the encoder graph's `context` output already is that tensor).
//
// GPU memory (DESIGN 2): the umT5 session holds ~11 GB (fp16) to ~23 GB (fp32) of weights, and every
// ORT session keeps its own copy of its weights, so the T5 session must be gone before the DiT session
// is created. `withTextEncoder(src, fn)` is the only way the pipeline should use it:
//
//   const [pos, neg] = await withTextEncoder(src, async (enc) => [await enc.encodePrompt(p), await enc.encodePrompt(n)]);
//   // ← the T5 session is released here, even when fn throws; only now load the DiT.
//
// The session is opened lazily, on the first prompt that misses the cache, so a run whose prompts are
// all cached never loads T5 at all.
import type { AnyTypedArray } from '../../graph/dtype.js';
import type { Graph } from '../../graph/graph.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { SessionOptions } from '../../runtime/session.js';
import type { T5Config } from '../config.js';
import { f16ToF32 } from '../../graph/half.js';
import type { WeightProvider } from '../weight-provider.js';
import type { PromptEmbedding } from './cache.js';
import { PromptCache } from './cache.js';
import { CLEAN_VERSION } from './clean.js';
import type { T5Options } from './encoder.js';
import { buildT5Graph } from './encoder.js';
import type { TokenizedPrompt } from './tokenizer.js';
import { T5Tokenizer } from './tokenizer.js';

/** Wan's text_len. */
export const WAN_TEXT_LEN = 512;

/** Everything the text encoder needs from a model package (the lead's package type maps onto this). */
export interface TextEncoderSource {
  t5: T5Config;
  /** The umT5 weights by official name (engine/model/inventory/t5.ts). */
  weights: WeightProvider;
  /** A loaded tokenizer, or a folder with tokenizer.json (a Wan2.2 checkpoint folder or its google/umt5-xxl). */
  tokenizer: T5Tokenizer | string;
  /** Identity of the weights (e.g. the SHA-256 from the package manifest); part of the cache key. */
  modelHash: string;
  /** The package's cache folder; null or absent: no caching. */
  cacheDir?: string | null;
  /** Static token length (default 512). */
  textLen?: number;
  /** Graph options: activation dtype (float32 default), attention form. */
  graph?: T5Options;
  session?: SessionOptions;
  /**
   * How to turn the graph into a session. Default: CompiledGraph.fromGraph(g, session). Real umT5
   * weights live in external data, so the package loader can pass one that saves the model beside its
   * weights first and opens it by path.
   */
  compile?: (g: Graph) => Promise<CompiledGraph>;
}

export class T5TextEncoder {
  readonly textLen: number;
  private tokenizer: T5Tokenizer | null;
  private compiled: CompiledGraph | null = null;
  private readonly cache: PromptCache | null;

  constructor(readonly src: TextEncoderSource) {
    this.textLen = src.textLen ?? WAN_TEXT_LEN;
    this.tokenizer = typeof src.tokenizer === 'string' ? null : src.tokenizer;
    const variant = `len=${this.textLen};dtype=${src.graph?.dtype ?? 'float32'};clean=${CLEAN_VERSION};dim=${src.t5.dim};layers=${src.t5.layers}`;
    this.cache = src.cacheDir ? new PromptCache(src.cacheDir, src.modelHash, variant) : null;
  }

  /** Whether the umT5 ORT session (and its copy of the weights) is alive now. */
  get holdsSession(): boolean {
    return this.compiled !== null;
  }

  async getTokenizer(): Promise<T5Tokenizer> {
    if (!this.tokenizer) this.tokenizer = await T5Tokenizer.load(this.src.tokenizer as string);
    return this.tokenizer;
  }

  async tokenize(prompt: string): Promise<TokenizedPrompt> {
    return (await this.getTokenizer()).encode(prompt, this.textLen);
  }

  private async session(): Promise<CompiledGraph> {
    if (this.compiled) return this.compiled;
    const g = buildT5Graph(this.src.t5, this.src.weights, { batch: 1, length: this.textLen }, this.src.graph);
    this.compiled = this.src.compile ? await this.src.compile(g) : await CompiledGraph.fromGraph(g, { ...this.src.session, outputs: g.outputs });
    return this.compiled;
  }

  /** The trimmed [L, dim] embedding of one prompt, from the cache when it has it. */
  async encodePrompt(prompt: string): Promise<PromptEmbedding> {
    const hit = await this.cache?.get(prompt);
    if (hit) return hit;
    const tok = await this.tokenize(prompt);
    const c = await this.session();
    const r = await c.run({ ids: BigInt64Array.from(tok.ids, BigInt), mask: BigInt64Array.from(tok.mask, BigInt) });
    const dim = this.src.t5.dim;
    const context = toFloat32(r.context!);
    const e: PromptEmbedding = {
      prompt,
      cleaned: tok.cleaned,
      length: tok.length,
      dim,
      embedding: context.slice(0, tok.length * dim),
      tokens: tok.ids.slice(0, tok.length),
      truncated: tok.truncated,
      fromCache: false,
    };
    await this.cache?.put(e);
    return e;
  }

  /** Frees the umT5 session. Safe to call twice; a later encodePrompt reopens it. */
  async release(): Promise<void> {
    const c = this.compiled;
    this.compiled = null;
    if (c) await c.release();
  }
}

/** The context output as float32 whatever the activation dtype (float16 arrives as half bits). */
function toFloat32(a: AnyTypedArray): Float32Array {
  if (a instanceof Float32Array) return a;
  if (a instanceof Uint16Array) return f16ToF32(a);
  if (a instanceof Float64Array) return Float32Array.from(a);
  throw new Error(`unexpected T5 output type ${a.constructor.name}`);
}

/**
 * Opens a text encoder, runs `fn`, and releases the umT5 session before returning (or throwing), so
 * the caller can load the DiT right after with the T5 weights out of GPU memory. Keep DiT work out of
 * `fn`: return the embeddings and use them afterwards.
 */
export async function withTextEncoder<T>(src: TextEncoderSource, fn: (enc: T5TextEncoder) => Promise<T>): Promise<T> {
  const enc = new T5TextEncoder(src);
  try {
    return await fn(enc);
  } finally {
    await enc.release();
  }
}

/** Wan's zero-padding of a trimmed [L, dim] embedding to [textLen, dim] (what the DiT's context takes). */
export function padContext(e: Pick<PromptEmbedding, 'embedding' | 'length' | 'dim'>, textLen = WAN_TEXT_LEN): Float32Array {
  if (e.length > textLen) throw new RangeError(`embedding has ${e.length} rows, more than text_len ${textLen}`);
  const out = new Float32Array(textLen * e.dim);
  out.set(e.embedding.subarray(0, e.length * e.dim));
  return out;
}
