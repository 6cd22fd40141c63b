// Portrait loading with real files made by sharp and ffmpeg: orientation, alpha, formats, refusals
// (text, video, missing, over the pixel limit) and the memory bound on a 20000×20000 PNG, measured in a
// child process so that its peak RSS is the decode's alone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { ffmpegPath } from '../runtime/ffmpeg.js';
import { MediaError } from './errors.js';
import { loadImage } from './image-input.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-image-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const px = (img: { data: Buffer; width: number }, x: number, y: number): number[] => {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
};
const near = (a: number[], b: number[], tol = 6): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

test('JPEG with EXIF orientation 6 is turned upright', async () => {
  // Stored 40×20: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to display",
  // so the upright picture is 20×40 with red on top.
  const file = path.join(dir, 'rotated.jpg');
  await sharp({ create: { width: 40, height: 20, channels: 3, background: '#0000ff' } })
    .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(file);
  const img = await loadImage(file);
  assert.equal(img.orientation, 6);
  assert.deepEqual([img.width, img.height], [20, 40]);
  assert.deepEqual([img.sourceWidth, img.sourceHeight], [20, 40]);
  assert.equal(img.data.length, 20 * 40 * 3);
  assert.ok(near(px(img, 10, 5), [255, 0, 0], 12), `top is red: ${px(img, 10, 5)}`);
  assert.ok(near(px(img, 10, 34), [0, 0, 255], 12), `bottom is blue: ${px(img, 10, 34)}`);
});

test('PNG alpha is flattened onto the configured background; output is RGB', async () => {
  const file = path.join(dir, 'alpha.png');
  // Left half opaque green, right half fully transparent.
  const rgba = Buffer.alloc(8 * 4 * 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) rgba.set(x < 4 ? [0, 255, 0, 255] : [0, 255, 0, 0], (y * 8 + x) * 4);
  await sharp(rgba, { raw: { width: 8, height: 4, channels: 4 } }).png().toFile(file);
  const img = await loadImage(file, { background: '#ff00ff' });
  assert.equal(img.hadAlpha, true);
  assert.equal(img.data.length, 8 * 4 * 3);
  assert.deepEqual(px(img, 1, 1), [0, 255, 0]);
  assert.deepEqual(px(img, 6, 2), [255, 0, 255]);
  const white = await loadImage(file);
  assert.deepEqual(px(white, 6, 2), [255, 255, 255]);
});

test('WebP and greyscale PNG come out as 3-channel RGB', async () => {
  const webp = path.join(dir, 'p.webp');
  await sharp({ create: { width: 16, height: 12, channels: 3, background: '#2060a0' } }).webp({ lossless: true }).toFile(webp);
  const a = await loadImage(webp);
  assert.equal(a.format, 'webp');
  assert.deepEqual([a.width, a.height, a.data.length], [16, 12, 16 * 12 * 3]);
  assert.ok(near(px(a, 3, 3), [0x20, 0x60, 0xa0], 2));
  const grey = path.join(dir, 'g.png');
  await sharp(Buffer.alloc(6 * 6, 77), { raw: { width: 6, height: 6, channels: 1 } }).png().toFile(grey);
  const g = await loadImage(grey);
  assert.deepEqual(px(g, 2, 2), [77, 77, 77]);
});

test('a text file, an empty file and a missing file are refused with the file named', async () => {
  const txt = path.join(dir, 'notes.png');
  writeFileSync(txt, 'this is not an image\n');
  await assert.rejects(loadImage(txt), (e: unknown) => e instanceof MediaError && e.code === 'not-image' && e.message.includes(txt) && /is not an image/.test(e.message));
  const empty = path.join(dir, 'empty.jpg');
  writeFileSync(empty, '');
  await assert.rejects(loadImage(empty), (e: unknown) => e instanceof MediaError && e.code === 'not-image' && e.message.includes(empty));
  const missing = path.join(dir, 'nope.png');
  await assert.rejects(loadImage(missing), (e: unknown) => e instanceof MediaError && e.code === 'not-found' && e.message.includes(missing));
});

test('a video given as the portrait says "that is a video; give a still image (or pick a frame)"', async () => {
  const mp4 = path.join(dir, 'clip.mp4');
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10:duration=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', mp4]);
  await assert.rejects(loadImage(mp4), (e: unknown) => e instanceof MediaError && e.code === 'is-video' && e.message === `${mp4}: that is a video; give a still image (or pick a frame)`);
});

test('20000×20000 PNG: refused above the pixel limit (named); within it, downscaled on decode with bounded memory', async () => {
  const big = path.join(dir, 'big.png');
  const t0 = performance.now();
  await sharp({ create: { width: 20000, height: 20000, channels: 3, background: '#336699' }, limitInputPixels: false }).png({ compressionLevel: 1 }).toFile(big);
  const createMs = performance.now() - t0;

  await assert.rejects(
    loadImage(big, { maxInputPixels: 100_000_000 }),
    (e: unknown) => e instanceof MediaError && e.code === 'image-too-large' && e.message.includes('20000×20000 (400 megapixels)') && e.message.includes('limit of 100 megapixels'),
  );

  // Decode in a fresh process so that maxRSS is this decode's peak, not the test runner's.
  const script = path.join(dir, 'decode-big.mjs');
  writeFileSync(
    script,
    `import { loadImage } from ${JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, 'image-input.ts')).href)};
const t0 = performance.now();
const img = await loadImage(${JSON.stringify(big)});
const ms = performance.now() - t0;
const i = (img.height >> 1) * img.width * 3 + (img.width >> 1) * 3;
console.log(JSON.stringify({ w: img.width, h: img.height, scale: img.scale, warn: img.warnings, mid: [img.data[i], img.data[i + 1], img.data[i + 2]], ms, rssMB: process.resourceUsage().maxRSS / 1024 }));`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { w: number; h: number; scale: number; warn: string[]; mid: number[]; ms: number; rssMB: number };
  console.log(`20000×20000 PNG: created in ${createMs.toFixed(0)} ms; loaded as ${out.w}×${out.h} in ${out.ms.toFixed(0)} ms, peak RSS ${out.rssMB.toFixed(0)} MB (full decode would need 1144 MB for pixels alone)`);
  assert.deepEqual([out.w, out.h], [4096, 4096]);
  assert.ok(near(out.mid, [0x33, 0x66, 0x99], 2), `colour kept: ${out.mid}`);
  assert.match(out.warn[0]!, /downscaled to 4096×4096 while decoding \(memory budget 16\.8 megapixels\)/);
  // Output is 48 MB; Node + sharp + libvips' streaming buffers add ~150 MB. A full decode is > 1.1 GB.
  assert.ok(out.rssMB < 500, `peak RSS ${out.rssMB} MB`);
});
