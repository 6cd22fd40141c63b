import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanPrompt, fixText, htmlUnescape } from './clean.js';
import { T5Tokenizer, UMT5_TOKENIZER_SUBDIR, resolveTokenizerDir } from './tokenizer.js';

// A Wan2.2-shaped folder whose google/umt5-xxl holds a 64-piece Unigram tokenizer.json with the real
// umT5 file's structure (Precompiled + Replace normaliser, Metaspace, TemplateProcessing "$A </s>").
const FIXTURE_WAN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'wan2.2-tiny');
const FIXTURE_TOKENIZER_DIR = path.join(FIXTURE_WAN_DIR, UMT5_TOKENIZER_SUBDIR);

test('cleaning: whitespace collapsed and stripped (Python \\s set), HTML unescaped twice, ftfy subset', () => {
  assert.equal(cleanPrompt('  A   woman\t\n is\u00a0talking.  '), 'A woman is talking.');
  assert.equal(cleanPrompt('x\u3000y\u2003z\x85w'), 'x y z w'); // ideographic space, em space, NEL
  assert.equal(cleanPrompt('z\x1cw'), 'zw'); // Python whitespace, but ftfy removes the control char first
  assert.equal(cleanPrompt('a\ufeffb'), 'ab'); // BOM is not whitespace in Python; ftfy removes it
  assert.equal(cleanPrompt('&amp;amp;lt;'), '<'); // ftfy's repeated unescape, then html.unescape twice
  assert.equal(cleanPrompt('<b> &amp;amp;</b>'), '<b> &</b>'); // with '<' ftfy leaves HTML alone: two rounds only
  assert.equal(cleanPrompt('caf&#233; &#x4E2D; &hellip; &unknown;'), 'café 中 … &unknown;');
  assert.equal(cleanPrompt('\u201cHi\u201d, she said \u2018ok\u2019'), '"Hi", she said \'ok\'');
  assert.equal(cleanPrompt('色调艳丽，过曝，静态'), '色调艳丽,过曝,静态'); // full-width comma narrowed (ftfy fix_character_width)
  assert.equal(cleanPrompt('\ufb01ne \x1b[31mred\x1b[0m'), 'fine red');
  assert.equal(fixText('e\u0301'), 'é'); // NFC
  assert.equal(htmlUnescape('&amp &lt; &gt'), '& < >');
  assert.equal(htmlUnescape('&amp', true), '&amp');
});

test('fixture loads from the Wan folder and from google/umt5-xxl; a folder without it says where it looked', async () => {
  assert.equal(await resolveTokenizerDir(FIXTURE_WAN_DIR), FIXTURE_TOKENIZER_DIR);
  assert.equal(await resolveTokenizerDir(FIXTURE_TOKENIZER_DIR), FIXTURE_TOKENIZER_DIR);
  const empty = await mkdtemp(path.join(tmpdir(), 't5tok-'));
  try {
    await assert.rejects(resolveTokenizerDir(empty), /no tokenizer\.json in .*google.umt5-xxl/);
    await writeFile(path.join(empty, 'spiece.model'), 'x');
    await assert.rejects(resolveTokenizerDir(empty), /only spiece\.model/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('tokenise: cleaned text, EOS appended, right-padded with <pad>, mask on real tokens; round trip', async () => {
  const tok = await T5Tokenizer.load(FIXTURE_WAN_DIR);
  assert.equal(tok.padId, 0);
  assert.equal(tok.eosId, 1);
  assert.deepEqual(tok.tokens('  A woman   is talking. '), ['▁A', '▁woman', '▁is', '▁talk', 'ing', '.']);
  const e = tok.encode('  A woman   is talking. ', 12);
  assert.deepEqual(e.ids, [33, 34, 36, 37, 38, 30, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(e.mask, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.equal(e.length, 7);
  assert.equal(e.truncated, false);
  assert.equal(e.cleaned, 'A woman is talking.');
  assert.equal(tok.decode(e.ids), 'A woman is talking.');
  // Every id fits the tiny T5 vocabulary (64), so fixture prompts can drive the tiny encoder.
  const long = tok.encode('A man smiles at the camera, and he is talking to it! The woman is smiling.', 64);
  assert.ok(long.ids.every((id) => id >= 0 && id < 64));
  assert.ok(long.length > 16);
});

test('truncation keeps EOS as the last real token (HF truncation counts the special tokens)', async () => {
  const tok = await T5Tokenizer.load(FIXTURE_TOKENIZER_DIR);
  const prompt = 'A man smiles at the camera, and he is talking to it!';
  const full = tok.encode(prompt, 64);
  const cut = tok.encode(prompt, 8);
  assert.equal(cut.truncated, true);
  assert.equal(cut.length, 8);
  assert.deepEqual(cut.ids, [...full.ids.slice(0, 7), 1]);
  assert.deepEqual(cut.mask, new Array(8).fill(1));
  const exact = tok.encode(prompt, full.length);
  assert.equal(exact.truncated, false);
  assert.deepEqual(exact.ids, full.ids.slice(0, full.length));
  assert.throws(() => tok.encode(prompt, 0), RangeError);
  // An empty prompt is just EOS.
  assert.deepEqual(tok.encode('   ', 4).ids, [1, 0, 0, 0]);
});

test('special tokens in tokenizer_config.json may be {content} objects', async () => {
  const dir = FIXTURE_TOKENIZER_DIR;
  const json = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const tok = new T5Tokenizer(json, { eos_token: { content: '</s>' }, pad_token: { content: '<pad>' }, unk_token: '<unk>' });
  assert.deepEqual(tok.encode('the video', 5).ids, [39, 46, 1, 0, 0]);
});
