// `refree run t5 --prompt "…"`: encode one prompt and write what the DiT consumes to a safetensors file
// (the CLI wiring lives with the lead; this is the entry function it calls).
//
//   context  F32 [1, textLen, dim]  the trimmed encoder output zero-padded to textLen rows (DiT input)
//   tokens   I64 [1, textLen]       the token ids fed to the encoder (prompt, EOS, then <pad>)
//   mask     I64 [1, textLen]       1 on real tokens
//   length   I64 [1]                real token count (EOS included)
//   __metadata__: prompt, cleaned, modelHash, truncated, fromCache
// The umT5 session is released before this returns (withTextEncoder).
import { writeSafetensors } from '../weights/safetensors.js';
import type { TextEncoderSource } from './text-encoder.js';
import { padContext, withTextEncoder } from './text-encoder.js';

export interface RunT5Result {
  outPath: string;
  length: number;
  textLen: number;
  dim: number;
  truncated: boolean;
  fromCache: boolean;
  seconds: number;
}

export async function runT5(src: TextEncoderSource, prompt: string, outPath: string): Promise<RunT5Result> {
  const t0 = performance.now();
  const { e, tok, textLen } = await withTextEncoder(src, async (enc) => ({ e: await enc.encodePrompt(prompt), tok: await enc.tokenize(prompt), textLen: enc.textLen }));
  if (tok.length !== e.length) throw new Error(`cached embedding has ${e.length} rows but the prompt tokenises to ${tok.length}; clear the package's text-context cache`);
  await writeSafetensors(
    outPath,
    [
      { name: 'context', dtype: 'F32', shape: [1, textLen, e.dim], data: padContext(e, textLen) },
      { name: 'tokens', dtype: 'I64', shape: [1, textLen], data: BigInt64Array.from(tok.ids, BigInt) },
      { name: 'mask', dtype: 'I64', shape: [1, textLen], data: BigInt64Array.from(tok.mask, BigInt) },
      { name: 'length', dtype: 'I64', shape: [1], data: BigInt64Array.of(BigInt(e.length)) },
    ],
    { metadata: { prompt, cleaned: e.cleaned, modelHash: src.modelHash, truncated: String(e.truncated), fromCache: String(e.fromCache) } },
  );
  return { outPath, length: e.length, textLen, dim: e.dim, truncated: e.truncated, fromCache: e.fromCache, seconds: (performance.now() - t0) / 1000 };
}
