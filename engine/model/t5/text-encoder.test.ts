import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { T5Config } from '../config.js';
import { TINY } from '../config.js';
import { t5Params } from '../inventory/t5.js';
import { randomWeights } from '../random-weights.js';
import { MapWeightProvider } from '../weight-provider.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import { relError, t5Reference } from './reference.test-helper.js';
import { runT5 } from './run.js';
import type { TextEncoderSource } from './text-encoder.js';
import { T5TextEncoder, padContext, withTextEncoder } from './text-encoder.js';

const WAN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'wan2.2-tiny');
const cfg: T5Config = TINY.t5!;
const weights = randomWeights(t5Params(cfg), 9);
const refWeights = new Map([...weights].map(([k, e]) => [k, (e.data as { kind: 'inline'; data: Float32Array }).data]));
const TEXT_LEN = 24;
const PROMPT = '  A woman is   talking to the camera. ';

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 't5enc-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function source(cacheDir: string | null, modelHash = 'tiny-seed-9'): TextEncoderSource {
  // A fresh provider per source: a MapWeightProvider is per graph anyway, this keeps consumption checks local.
  return { t5: cfg, weights: new MapWeightProvider(weights), tokenizer: WAN_DIR, modelHash, cacheDir, textLen: TEXT_LEN };
}

test('encodePrompt: trimmed rows match the float64 reference; padContext zero-pads to text_len', async () => {
  await withTextEncoder(source(null), async (enc) => {
    const tok = await enc.tokenize(PROMPT);
    const e = await enc.encodePrompt(PROMPT);
    assert.equal(e.fromCache, false);
    assert.equal(e.length, tok.length);
    assert.equal(e.length, 10); // ▁A ▁woman ▁is ▁talk ing ▁to ▁the ▁camera . + EOS
    assert.deepEqual(e.tokens, tok.ids.slice(0, e.length));
    assert.equal(e.embedding.length, e.length * cfg.dim);
    const ref = t5Reference(cfg, refWeights, tok.ids, tok.length);
    const err = relError(e.embedding, ref, e.length * cfg.dim);
    console.log(`  encodePrompt vs float64 reference: rel error ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `rel error ${err}`);
    const padded = padContext(e, TEXT_LEN);
    assert.equal(padded.length, TEXT_LEN * cfg.dim);
    assert.deepEqual(padded.subarray(0, e.length * cfg.dim), e.embedding);
    assert.ok(padded.subarray(e.length * cfg.dim).every((v) => v === 0));
  });
});

test('prompt cache: keyed by (model hash, prompt); a hit opens no session; a corrupt file is a miss', async () => {
  await withTmp(async (dir) => {
    const first = await withTextEncoder(source(dir), (enc) => enc.encodePrompt(PROMPT));
    assert.equal(first.fromCache, false);
    assert.equal((await readdir(path.join(dir, 'text-context'))).length, 1);

    const enc = new T5TextEncoder(source(dir));
    const again = await enc.encodePrompt(PROMPT);
    assert.equal(again.fromCache, true);
    assert.equal(enc.holdsSession, false, 'a cache hit must not load T5');
    assert.deepEqual(again.embedding, first.embedding);
    assert.deepEqual(again.tokens, first.tokens);
    assert.equal(again.cleaned, 'A woman is talking to the camera.');

    // Another prompt, or the same prompt with other weights, is a miss.
    const other = await withTextEncoder(source(dir), (e) => e.encodePrompt('A man is talking.'));
    assert.equal(other.fromCache, false);
    const otherModel = await withTextEncoder(source(dir, 'another-hash'), (e) => e.encodePrompt(PROMPT));
    assert.equal(otherModel.fromCache, false);
    assert.equal((await readdir(path.join(dir, 'text-context'))).length, 3);

    // Corrupt the first entry: it becomes a miss and is rewritten.
    const cacheDir = path.join(dir, 'text-context');
    const files = await readdir(cacheDir);
    for (const f of files) await writeFile(path.join(cacheDir, f), 'not a safetensors file');
    const redo = await withTextEncoder(source(dir), (e) => e.encodePrompt(PROMPT));
    assert.equal(redo.fromCache, false);
    assert.deepEqual(redo.embedding, first.embedding);
    assert.equal((await withTextEncoder(source(dir), (e) => e.encodePrompt(PROMPT))).fromCache, true);
  });
});

test('withTextEncoder releases the T5 session on return and on throw', async () => {
  let seen: T5TextEncoder | null = null;
  await withTextEncoder(source(null), async (enc) => {
    seen = enc;
    await enc.encodePrompt('the video');
    assert.equal(enc.holdsSession, true);
  });
  assert.equal(seen!.holdsSession, false);
  await assert.rejects(
    withTextEncoder(source(null), async (enc) => {
      seen = enc;
      await enc.encodePrompt('the video');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(seen!.holdsSession, false);
});

test('runT5 writes context [1, text_len, dim] zero-padded, tokens, mask and length', async () => {
  await withTmp(async (dir) => {
    const out = path.join(dir, 'prompt.safetensors');
    const r = await runT5(source(null), PROMPT, out);
    assert.equal(r.length, 10);
    assert.equal(r.textLen, TEXT_LEN);
    const f = await SafetensorsFile.open(out);
    try {
      assert.deepEqual(f.info('context').shape, [1, TEXT_LEN, cfg.dim]);
      const context = (await f.read('context')) as Float32Array;
      const tokens = Array.from((await f.read('tokens')) as BigInt64Array, Number);
      const mask = Array.from((await f.read('mask')) as BigInt64Array, Number);
      assert.deepEqual(Array.from((await f.read('length')) as BigInt64Array, Number), [10]);
      assert.equal(tokens[9], 1, 'EOS is the last real token');
      assert.deepEqual(tokens.slice(10), new Array(TEXT_LEN - 10).fill(0));
      assert.deepEqual(mask, tokens.map((_, i) => (i < 10 ? 1 : 0)));
      const ref = t5Reference(cfg, refWeights, tokens, 10);
      assert.ok(relError(context, ref, 10 * cfg.dim) <= 1e-4);
      assert.ok(context.subarray(10 * cfg.dim).every((v) => v === 0));
      assert.equal(f.metadata.prompt, PROMPT);
    } finally {
      await f.close();
    }
  });
});
