// `--out` equal to an input is refused before anything is written: `refree generate` (portrait or
// speech, also through a symlink) and `refree run` (--inputs). The input's bytes stay exactly as they were.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIO } from './command.js';
import { main } from './main.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-outguard-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
function io(): CliIO & { out: string; err: string } {
  const x = { out: '', err: '', isTTY: false, stdout: (t: string) => void (x.out += `${t}\n`), stderr: (t: string) => void (x.err += t) };
  return x;
}

test('refree generate --out equal to --audio or --portrait (or a link to it) is refused; the input is unchanged', async () => {
  const portrait = path.join(root, 'face.png');
  const speech = path.join(root, 'speech.wav');
  writeFileSync(portrait, Buffer.from('not really a png, but it must survive'));
  writeFileSync(speech, Buffer.from('RIFF....WAVE pretend speech'));
  const before = [sha(portrait), sha(speech)];
  const link = path.join(root, 'link.mp4');
  symlinkSync(speech, link);
  for (const [out, flag] of [[speech, '--audio'], [portrait, '--portrait'], [link, '--audio'], [path.join(root, '.', 'x', '..', 'speech.wav'), '--audio']] as const) {
    const x = io();
    const code = await main(['generate', '--portrait', portrait, '--audio', speech, '--out', out], x);
    assert.equal(code, 2, x.err);
    assert.match(x.err, new RegExp(`--out \\(.*\\) is the same file as ${flag}; writing it would destroy the input`));
  }
  assert.deepEqual([sha(portrait), sha(speech)], before);
  // --json: one JSON object with the same sentence.
  const j = io();
  assert.equal(await main(['generate', '--portrait', portrait, '--audio', speech, '--out', speech, '--json'], j), 2);
  assert.match((JSON.parse(j.out) as { error: string }).error, /is the same file as --audio/);
});

test('refree run --out equal to --inputs is refused; --inputs naming a folder is a sentence, not EISDIR', async () => {
  const inputs = path.join(root, 'in.safetensors');
  writeFileSync(inputs, Buffer.from('tensors that must survive'));
  const before = sha(inputs);
  let x = io();
  assert.equal(await main(['run', 'dit', '--package', path.join(root, 'nope'), '--inputs', inputs, '--out', inputs], x), 2);
  assert.match(x.err, /--out \(.*in\.safetensors\) is the same file as --inputs/);
  assert.equal(sha(inputs), before);
  const folder = path.join(root, 'folder');
  mkdirSync(folder);
  x = io();
  assert.equal(await main(['run', 'dit', '--package', path.join(root, 'nope'), '--inputs', folder, '--out', path.join(root, 'o.safetensors')], x), 2);
  assert.match(x.err, /--inputs .*folder is a folder; give the \.safetensors file/);
  assert.doesNotMatch(x.err, /EISDIR/);
});
