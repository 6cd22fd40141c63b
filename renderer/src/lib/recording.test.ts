import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToBase64, pickRecordingType, recordingExtension, recordingName } from './recording.js';

test('the recorder asks for the best supported container and names the upload to match', () => {
  assert.equal(pickRecordingType((t) => t.startsWith('audio/ogg')), 'audio/ogg;codecs=opus');
  assert.equal(pickRecordingType(() => true), 'audio/webm;codecs=opus');
  assert.equal(pickRecordingType(() => false), '');
  assert.equal(recordingExtension('audio/webm;codecs=opus'), 'webm');
  assert.equal(recordingExtension('audio/ogg'), 'ogg');
  assert.equal(recordingExtension('audio/mp4'), 'm4a');
  assert.equal(recordingExtension(''), 'webm');
  assert.equal(recordingName(new Date(2026, 10, 5, 9, 3, 7), 'audio/ogg'), 'recording-20261105-090307.ogg');
});

test('bytes become standard base64, also beyond one chunk', () => {
  const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7) % 256);
  assert.equal(bytesToBase64(big), Buffer.from(big).toString('base64'));
  assert.equal(bytesToBase64(new Uint8Array([])), '');
  assert.equal(bytesToBase64(new Uint8Array([255, 0])), '/wA=');
});
