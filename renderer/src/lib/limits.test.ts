import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FILE_UPLOAD_BYTES as HOST_MAX, UPLOAD_AUDIO_EXTENSIONS, UPLOAD_IMAGE_EXTENSIONS } from '../../../engine/service/contract.js';
import { AUDIO_EXTENSIONS, fileKind, IMAGE_EXTENSIONS, MAX_FILE_UPLOAD_BYTES } from './limits.js';

test("the renderer's limits are the service contract's", () => {
  assert.equal(MAX_FILE_UPLOAD_BYTES, HOST_MAX);
  assert.deepEqual([...IMAGE_EXTENSIONS], [...UPLOAD_IMAGE_EXTENSIONS]);
  assert.deepEqual([...AUDIO_EXTENSIONS], [...UPLOAD_AUDIO_EXTENSIONS]);
});

test('fileKind: by MIME type, then by extension', () => {
  assert.equal(fileKind({ name: 'x', type: 'image/png' }), 'image');
  assert.equal(fileKind({ name: 'talk.M4A', type: '' }), 'audio');
  assert.equal(fileKind({ name: 'clip.mp4', type: 'video/mp4' }), 'audio');
  assert.equal(fileKind({ name: 'notes.txt', type: 'text/plain' }), null);
});
