// The crop suggestion's no-face threshold, on faceless pictures and a drawn cartoon face (real
// BlazeFace), and the suggested box on the demo avatar: the face with a margin, not the whole picture.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { blazeFaceDetector } from '../media/face-detector.js';
import { FACE_MIN_SCORE, suggestCrop } from './crop-suggest.js';

const AVATAR = fileURLToPath(new URL('../../assets/demo/avatar.png', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'refree-crop-'));
after(() => rm(dir, { recursive: true, force: true }));
const svg = (body: string, w = 256, h = 256): Buffer => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${body}</svg>`);

test('faceless pictures and a cartoon face get faceFound: false with a sentence; the avatar gets its face with a margin', async () => {
  const detector = await blazeFaceDetector({ minScore: 0 });
  const faceless: Record<string, Buffer> = {
    noise: await sharp(randomBytes(256 * 256 * 3), { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer(),
    'skin-coloured field': await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 220, g: 170, b: 140 } } }).png().toBuffer(),
    'cartoon face': await sharp(svg('<rect width="256" height="256" fill="#dcb"/><circle cx="128" cy="128" r="80" fill="#e9b99a"/><circle cx="100" cy="110" r="10" fill="#222"/><circle cx="156" cy="110" r="10" fill="#222"/><rect x="105" y="165" width="46" height="8" fill="#a33"/>')).png().toBuffer(),
    landscape: await sharp(svg('<rect width="320" height="140" fill="#7ab"/><rect y="140" width="320" height="100" fill="#5a4"/><circle cx="250" cy="50" r="25" fill="#ff5"/><polygon points="40,140 110,50 180,140" fill="#665"/>', 320, 240)).png().toBuffer(),
  };
  for (const [name, bytes] of Object.entries(faceless)) {
    const file = path.join(dir, `${name.replace(/ /g, '-')}.png`);
    await sharp(bytes).toFile(file);
    const s = await suggestCrop(file, detector);
    assert.equal(s.faceFound, false, `${name}: ${JSON.stringify(s)}`);
    assert.ok(s.score === null || s.score < FACE_MIN_SCORE, `${name} scored ${s.score}`);
    assert.match(s.warning ?? '', /^No face found in the portrait.*Move the box over the face by hand/, name);
  }
  const a = await suggestCrop(AVATAR, detector);
  assert.equal(a.faceFound, true);
  assert.ok(a.score! >= FACE_MIN_SCORE, `avatar scored ${a.score}`);
  assert.equal(a.warning, undefined);
  // The face (eyes to chin, roughly x 65–190, y 70–200 of 256) is inside, and the box is not the whole picture.
  const { x, y, size } = a.box;
  assert.ok(x <= 65 && x + size >= 190 && y <= 70 && y + size >= 200, JSON.stringify(a.box));
  assert.ok(size < 240, `a face-sized box, not the whole 256-pixel picture: ${size}`);
});
