// media.suggestCrop (real BlazeFace on the shipped demo avatar and on a plain grey picture) and
// media.upload (a WAV sent as base64 is imported like media.import; bad names and oversize uploads are
// refused with sentences), both through the service's boundary (`dispatch`) as the hosts call them.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { CropSuggestion, MediaInfo, Project } from './contract.js';
import { MAX_UPLOAD_BYTES } from './contract.js';
import { runFfmpeg } from '../media/ffmpeg-run.js';
import { sanitizeUploadName } from './media-upload.js';
import type { DispatchResult } from './service.js';
import { StudioService } from './service.js';

const DEMO = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'refree-upload-'));
  dirs.push(d);
  return d;
}
function value<T>(r: DispatchResult): T {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
function error(r: DispatchResult): { code: string; message: string } {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

/** 0.5 s of a 220 Hz tone, 16 kHz mono 16-bit PCM. */
function wav(): Buffer {
  const n = 8000;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000)), 44 + 2 * i);
  return b;
}

test('media.suggestCrop: the demo avatar gets a box around its face; a plain grey picture gets a centred box and a warning', async () => {
  const dir = await tempDir();
  const svc = await StudioService.create({ dataDir: dir, autoStart: false });
  try {
    const avatar = path.join(DEMO, 'avatar.png');
    const { width, height } = await sharp(avatar).metadata();
    const s = value<CropSuggestion>(await svc.dispatch('media.suggestCrop', { path: avatar }));
    assert.equal(s.faceFound, true, JSON.stringify(s));
    const { x, y, size } = s.box;
    assert.ok(Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(size), JSON.stringify(s.box));
    assert.ok(x >= 0 && y >= 0 && x + size <= width && y + size <= height, `box ${JSON.stringify(s.box)} inside ${width}×${height}`);
    assert.ok(size >= 32, `a face-sized box, got ${size}`);
    // The avatar's face (eyes to chin, roughly x 65–190, y 70–200 of 256) lies inside the box.
    assert.ok(x <= 65 && x + size >= 190 && y <= 70 && y + size >= 200, `box ${JSON.stringify(s.box)} contains the face`);
    assert.equal(s.warning, undefined);

    const grey = path.join(dir, 'grey.png');
    await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(grey);
    const g = value<CropSuggestion>(await svc.dispatch('media.suggestCrop', { path: grey }));
    assert.equal(g.faceFound, false);
    assert.deepEqual(g.box, { x: 60, y: 0, size: 200 });
    assert.match(g.warning ?? '', /^No face found .*\.$/);

    const missing = error(await svc.dispatch('media.suggestCrop', { path: path.join(dir, 'nope.png') }));
    assert.equal(missing.code, 'not-found');
    assert.match(missing.message, /nope\.png does not exist/);
  } finally {
    await svc.close();
  }
});

test('media.upload: a base64 WAV is stored in the project and imported; bad names and oversize uploads are refused with sentences', async () => {
  const dir = await tempDir();
  const svc = await StudioService.create({ dataDir: dir, autoStart: false });
  try {
    const p = value<Project>(await svc.dispatch('projects.create', { name: 'Mic' }));
    const bytes = wav();
    const aud = value<MediaInfo>(await svc.dispatch('media.upload', { name: '../../etc/my recording.wav', kind: 'audio', dataBase64: bytes.toString('base64'), project: p.path }));
    assert.equal(aud.kind, 'audio');
    assert.equal(aud.bytes, bytes.length);
    assert.equal(aud.sampleRate, 16000);
    assert.ok(aud.duration !== null && Math.abs(aud.duration - 0.5) < 0.01, `duration ${aud.duration}`);
    assert.equal(path.dirname(aud.path), path.join(path.dirname(p.path), 'media'));
    assert.match(path.basename(aud.path), /^[0-9a-f]{16}-my_recording\.wav$/);
    assert.ok(aud.url?.startsWith('/media/'), String(aud.url));
    // The same upload again is the same file (content-hash name), and media.import of it agrees.
    const again = value<MediaInfo>(await svc.dispatch('media.upload', { name: 'my recording.wav', kind: 'audio', dataBase64: bytes.toString('base64'), project: p.path }));
    assert.equal(again.path, aud.path);
    assert.deepEqual(value<MediaInfo>(await svc.dispatch('media.import', { path: aud.path, project: p.path, kind: 'audio' })), aud);

    const badExt = error(await svc.dispatch('media.upload', { name: 'speech.exe', kind: 'audio', dataBase64: bytes.toString('base64'), project: p.path }));
    assert.equal(badExt.code, 'bad-input');
    assert.match(badExt.message, /"speech\.exe" is not an audio file .* must end in \.webm, \.ogg, \.wav, \.mp3, \.m4a, /);

    const big = Buffer.alloc(MAX_UPLOAD_BYTES + 3).toString('base64');
    const over = error(await svc.dispatch('media.upload', { name: 'long.wav', kind: 'audio', dataBase64: big, project: p.path }));
    assert.equal(over.code, 'bad-input');
    assert.match(over.message, /larger than 50 MB/);

    const badB64 = error(await svc.dispatch('media.upload', { name: 'x.wav', kind: 'audio', dataBase64: 'not base64!', project: p.path }));
    assert.match(badB64.message, /not valid base64/);

    // Right extension, wrong content: refused by ffprobe, and nothing is left behind.
    const fake = error(await svc.dispatch('media.upload', { name: 'fake.wav', kind: 'audio', dataBase64: Buffer.from('hello, not audio').toString('base64'), project: p.path }));
    assert.equal(fake.code, 'bad-input');
    assert.match(fake.message, /^fake\.wav is not an audio file the studio can read/);
    assert.deepEqual((await readdir(path.dirname(aud.path))).filter((f) => f.includes('fake')), []);
  } finally {
    await svc.close();
  }
});

test('media.upload: a live WebM without a duration (what MediaRecorder writes) becomes a WAV with its length', async () => {
  const dir = await tempDir();
  const svc = await StudioService.create({ dataDir: dir, autoStart: false });
  try {
    // ffmpeg writing WebM to a pipe cannot seek back to store the duration: like a browser recording.
    const chunks: Buffer[] = [];
    const r = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=1.5', '-c:a', 'libopus', '-f', 'webm', '-live', '1', 'pipe:1'], { onStdout: (c) => void chunks.push(c) });
    assert.equal(r.code, 0, r.stderr);
    const webm = Buffer.concat(chunks);
    const info = value<MediaInfo>(await svc.dispatch('media.upload', { name: 'recording-1.webm', kind: 'audio', dataBase64: webm.toString('base64') }));
    assert.match(path.basename(info.path), /^[0-9a-f]{16}-recording-1\.wav$/);
    assert.ok(info.duration !== null && Math.abs(info.duration - 1.5) < 0.05, `duration ${info.duration}`);
    assert.equal(info.url, `/media/data/imports/${path.basename(info.path)}`);
    // Only the WAV is left in the imports folder (the WebM and the temporary file are gone).
    assert.deepEqual(await readdir(path.dirname(info.path)), [path.basename(info.path)]);
  } finally {
    await svc.close();
  }
});

test('upload names are sanitised to one plain file name', () => {
  assert.equal(sanitizeUploadName('../../etc/passwd.wav'), 'passwd.wav');
  assert.equal(sanitizeUploadName('C:\\Users\\me\\voice memo (1).m4a'), 'voice_memo_1_.m4a');
  assert.equal(sanitizeUploadName('.hidden.wav'), 'hidden.wav');
  assert.equal(sanitizeUploadName('..'), '');
});
