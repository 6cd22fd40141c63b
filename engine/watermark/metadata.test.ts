// The metadata layer: tags written through ffmpeg come back through ffprobe, for MP4 (custom keys
// need +use_metadata_tags) and Matroska (keys come back upper-cased).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import { payloadFor, payloadHex } from './message.js';
import { metadataArgs, provenanceSentence, readMetadata } from './metadata.js';

let dir = '';
before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'refree-meta-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

const info = { appVersion: '0.1.0', modelName: 'refree-demo', modelHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', jobId: 'job-7', payload: payloadFor('job-7', '9f86d081') };

function encode(file: string, extra: string[]): void {
  execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=gray:size=64x64:duration=0.2', '-c:v', 'libx264', '-preset', 'ultrafast', ...extra, file]);
}

test('metadataArgs: the sentence, custom keys, and one -movflags that keeps them in MP4', () => {
  const args = metadataArgs(info, { movflags: ['+faststart'] });
  assert.equal(provenanceSentence(info), 'AI-generated video (ReFree Studio 0.1.0, model refree-demo 9f86d081884c)');
  assert.ok(args.includes(`comment=${provenanceSentence(info)}`));
  assert.ok(args.includes('ai_generated=true'));
  assert.deepEqual(args.slice(-2), ['-movflags', '+use_metadata_tags+faststart']);
  assert.equal(args.filter((a) => a === '-movflags').length, 1);
  assert.ok(!metadataArgs(info, { container: 'mkv' }).includes('-movflags'));
});

for (const container of ['mp4', 'mkv'] as const) {
  test(`${container}: tags round-trip through ffmpeg and ffprobe`, async () => {
    const file = path.join(dir, `tagged.${container}`);
    encode(file, metadataArgs(info, { container }));
    const m = await readMetadata(file);
    assert.equal(m.aiGenerated, true);
    assert.equal(m.generator, 'ReFree Studio 0.1.0');
    assert.equal(m.model, 'refree-demo');
    assert.equal(m.modelHash, info.modelHash);
    assert.equal(m.jobId, 'job-7');
    assert.equal(m.payload, payloadHex(info.payload));
    assert.equal(m.comment, provenanceSentence(info));
    assert.equal(m.tags.description, provenanceSentence(info));
  });
}

test('without +use_metadata_tags MP4 drops the custom keys (why metadataArgs adds it); untagged video reads as not AI-tagged', async () => {
  const plain = path.join(dir, 'plain.mp4');
  encode(plain, metadataArgs(info).slice(0, -2));
  const m = await readMetadata(plain);
  assert.equal(m.model, null);
  assert.equal(m.aiGenerated, true, 'the comment sentence still says so');
  const none = path.join(dir, 'none.mp4');
  encode(none, []);
  const n = await readMetadata(none);
  assert.equal(n.aiGenerated, false);
  assert.equal(n.generator, null);
  await assert.rejects(readMetadata(path.join(dir, 'missing.mp4')), /no such file/);
});
