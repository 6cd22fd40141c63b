// The umT5 tokenizer as Wan calls it (W22 tokenizers.py HuggingfaceTokenizer with clean='whitespace',
// seq_len = text_len, add_special_tokens=True, padding='max_length', truncation=True): clean the prompt
// (clean.ts), tokenise with the Wan2.2 folder's `google/umt5-xxl/tokenizer.json` through
// @huggingface/tokenizers (a pure-JS reader of tokenizer.json: Precompiled→NFKC normaliser, Metaspace
// pre-tokeniser, Unigram model, TemplateProcessing "$A </s>"), then truncate and pad like HF:
// the text is cut to text_len minus the special tokens the template adds (so EOS is always kept), the
// template is applied, and the ids are right-padded with <pad> to text_len. The attention mask is 1 on
// the prompt's tokens and its EOS, 0 on padding.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { cleanPrompt } from './clean.js';

export interface TokenizedPrompt {
  /** text_len ids: the template's tokens (prompt + EOS), then <pad>. */
  ids: number[];
  /** text_len values: 1 for real tokens, 0 for padding. */
  mask: number[];
  /** Real token count (including EOS), what Wan trims the encoder output to. */
  length: number;
  /** Whether the prompt was cut to fit text_len. */
  truncated: boolean;
  /** The prompt after Wan's cleaning, as it was tokenised. */
  cleaned: string;
}

type Json = Record<string, unknown>;

/** Where a Wan2.2 checkpoint folder keeps the umT5 tokenizer. */
export const UMT5_TOKENIZER_SUBDIR = path.join('google', 'umt5-xxl');

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/**
 * The folder holding tokenizer.json: `dir` itself, or `dir/google/umt5-xxl` (a Wan2.2 checkpoint
 * folder). Throws a sentence naming both places when neither has it.
 */
export async function resolveTokenizerDir(dir: string): Promise<string> {
  for (const d of [dir, path.join(dir, UMT5_TOKENIZER_SUBDIR)]) if (await isFile(path.join(d, 'tokenizer.json'))) return d;
  const spiece = (await isFile(path.join(dir, 'spiece.model'))) || (await isFile(path.join(dir, UMT5_TOKENIZER_SUBDIR, 'spiece.model')));
  throw new Error(
    `no tokenizer.json in ${dir} or ${path.join(dir, UMT5_TOKENIZER_SUBDIR)}` +
      (spiece ? ' (only spiece.model was found; this reader needs the tokenizer.json that ships beside it in the Wan2.2 download)' : '; point at the Wan2.2 checkpoint folder or its google/umt5-xxl folder'),
  );
}

/** tokenizer_config.json may give special tokens as {content: ...} objects; the JS tokenizer wants strings. */
function normaliseConfig(config: Json): Json {
  const out: Json = { ...config };
  for (const k of ['eos_token', 'pad_token', 'unk_token', 'bos_token']) {
    const v = out[k];
    if (v && typeof v === 'object' && typeof (v as Json).content === 'string') out[k] = (v as Json).content;
  }
  if (Array.isArray(out.additional_special_tokens)) {
    out.additional_special_tokens = out.additional_special_tokens.map((v: unknown) => (v && typeof v === 'object' ? (v as Json).content : v));
  }
  return out;
}

export class T5Tokenizer {
  readonly padId: number;
  readonly eosId: number;
  private readonly tok: Tokenizer;
  /** Ids the post-processor puts before and after the text ([] and [EOS] for T5). */
  private readonly prefix: number[];
  private readonly suffix: number[];

  constructor(tokenizerJson: Json, config: Json = {}) {
    const cfg = normaliseConfig(config);
    this.tok = new Tokenizer(tokenizerJson, cfg);
    const idOf = (token: string, what: string): number => {
      const id = this.tok.token_to_id(token);
      if (id === undefined) throw new Error(`tokenizer.json has no ${what} token "${token}"`);
      return id;
    };
    this.padId = idOf(typeof cfg.pad_token === 'string' ? cfg.pad_token : '<pad>', 'pad');
    this.eosId = idOf(typeof cfg.eos_token === 'string' ? cfg.eos_token : '</s>', 'end-of-sequence');
    // Learn the template from a probe: with special tokens = prefix + text + suffix.
    const probe = 'a';
    const bare = this.tok.encode(probe, { add_special_tokens: false }).ids;
    const full = this.tok.encode(probe, { add_special_tokens: true }).ids;
    const at = indexOfRun(full, bare);
    if (at < 0) throw new Error('tokenizer.json: the post-processor does not wrap the text as prefix + text + suffix');
    this.prefix = full.slice(0, at);
    this.suffix = full.slice(at + bare.length);
    if (!this.suffix.includes(this.eosId) && !this.prefix.includes(this.eosId)) {
      throw new Error(`tokenizer.json: the post-processor does not add the end-of-sequence token (id ${this.eosId}); not a T5 tokenizer`);
    }
  }

  /** Loads tokenizer.json (+ tokenizer_config.json when present) from a folder or a Wan2.2 checkpoint folder. */
  static async load(dir: string): Promise<T5Tokenizer> {
    const d = await resolveTokenizerDir(dir);
    const tokenizerJson = JSON.parse(await readFile(path.join(d, 'tokenizer.json'), 'utf8')) as Json;
    const cfgPath = path.join(d, 'tokenizer_config.json');
    const config = (await isFile(cfgPath)) ? (JSON.parse(await readFile(cfgPath, 'utf8')) as Json) : {};
    return new T5Tokenizer(tokenizerJson, config);
  }

  /** Token ids of the cleaned text without special tokens (for inspection and tests). */
  tokenIds(text: string): number[] {
    return this.tok.encode(cleanPrompt(text), { add_special_tokens: false }).ids;
  }

  tokens(text: string): string[] {
    return this.tok.encode(cleanPrompt(text), { add_special_tokens: false }).tokens;
  }

  /** Wan's tokenisation of one prompt to `textLen` ids (see the header). */
  encode(prompt: string, textLen = 512): TokenizedPrompt {
    const room = textLen - this.prefix.length - this.suffix.length;
    if (!Number.isInteger(textLen) || room < 0) throw new RangeError(`text length ${textLen} leaves no room for the ${this.prefix.length + this.suffix.length} special tokens`);
    const cleaned = cleanPrompt(prompt);
    const body = this.tok.encode(cleaned, { add_special_tokens: false }).ids;
    const truncated = body.length > room;
    const real = [...this.prefix, ...body.slice(0, room), ...this.suffix];
    const ids = real.concat(new Array<number>(textLen - real.length).fill(this.padId));
    const mask = ids.map((_, i) => (i < real.length ? 1 : 0));
    return { ids, mask, length: real.length, truncated, cleaned };
  }

  decode(ids: readonly number[], skipSpecial = true): string {
    return this.tok.decode([...ids], { skip_special_tokens: skipSpecial });
  }
}

function indexOfRun(hay: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
