// Face crop with the real BlazeFace model (from @vladmandic/human's package) on synthetic pictures:
// a cartoon face drawn from SVG is detected and the crop centres on it; a picture without a face gets
// the centre crop and a warning; a manual box overrides detection; bad boxes are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { MediaError } from './errors.js';
import { centerCrop, cropFace, faceCrop, validateCropBox } from './face-crop.js';
import { blazeFaceDetector } from './face-detector.js';
import type { RgbImage } from './image-input.js';

/** A flat cartoon face (skin ellipse, eyes with pupils, brows, nose, mouth, shoulders) centred at (cx, cy), head half-height r. */
function faceSvg(w: number, h: number, faces: { cx: number; cy: number; r: number }[]): string {
  const one = ({ cx, cy, r }: { cx: number; cy: number; r: number }): string => `
<rect x="${cx - r * 0.9}" y="${cy + r * 0.95}" width="${r * 1.8}" height="${r}" fill="#336"/>
<ellipse cx="${cx}" cy="${cy}" rx="${r * 0.8}" ry="${r}" fill="#e0b090"/>
<ellipse cx="${cx - r * 0.3}" cy="${cy - r * 0.15}" rx="${r * 0.13}" ry="${r * 0.07}" fill="white"/>
<ellipse cx="${cx + r * 0.3}" cy="${cy - r * 0.15}" rx="${r * 0.13}" ry="${r * 0.07}" fill="white"/>
<circle cx="${cx - r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.06}" fill="#321"/>
<circle cx="${cx + r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.06}" fill="#321"/>
<path d="M ${cx - r * 0.45} ${cy - r * 0.32} q ${r * 0.15} ${-r * 0.08} ${r * 0.3} 0" stroke="#432" stroke-width="${r * 0.05}" fill="none"/>
<path d="M ${cx + r * 0.15} ${cy - r * 0.32} q ${r * 0.15} ${-r * 0.08} ${r * 0.3} 0" stroke="#432" stroke-width="${r * 0.05}" fill="none"/>
<path d="M ${cx} ${cy - r * 0.1} l ${-r * 0.08} ${r * 0.3} l ${r * 0.12} 0" stroke="#a76" stroke-width="${r * 0.04}" fill="none"/>
<path d="M ${cx - r * 0.25} ${cy + r * 0.45} q ${r * 0.25} ${r * 0.15} ${r * 0.5} 0" stroke="#a33" stroke-width="${r * 0.06}" fill="#c55"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#8aa"/>${faces.map(one).join('')}</svg>`;
}

async function render(svg: string): Promise<RgbImage> {
  const { data, info } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const px = (img: RgbImage, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];

test('geometry: centre crop, face crop clamped inside the image, box validation', () => {
  assert.deepEqual(centerCrop(512, 384), { x: 64, y: 0, size: 384 });
  assert.deepEqual(centerCrop(300, 500), { x: 0, y: 100, size: 300 });
  // Face 100 px at (200,150) centre: side 180 centred there.
  assert.deepEqual(faceCrop(512, 384, { x: 150, y: 100, width: 100, height: 100, score: 1 }), { x: 110, y: 60, size: 180 });
  // Face near the left/top edge: shifted inside, not shrunk.
  assert.deepEqual(faceCrop(512, 384, { x: 0, y: 0, width: 100, height: 100, score: 1 }), { x: 0, y: 0, size: 180 });
  // Face bigger than the picture allows: the side is the shorter image side.
  assert.deepEqual(faceCrop(512, 384, { x: 100, y: 0, width: 300, height: 380, score: 1 }), { x: 58, y: 0, size: 384 });
  assert.deepEqual(validateCropBox({ x: 10, y: 20, size: 100 }, 512, 384), { x: 10, y: 20, size: 100 });
  assert.throws(() => validateCropBox({ x: 450, y: 0, size: 100 }, 512, 384), (e: unknown) => e instanceof MediaError && e.code === 'bad-crop' && /goes outside the 512×384 image/.test(e.message));
  assert.throws(() => validateCropBox({ x: 1.5, y: 0, size: 100 }, 512, 384), /whole-pixel/);
  assert.throws(() => validateCropBox({ x: 0, y: 0, size: 0 }, 512, 384), /at least 1 pixel/);
});

test('no face: centre crop with a warning', async () => {
  // A smooth colour gradient: nothing face-like.
  const w = 320;
  const h = 240;
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128], (y * w + x) * 3);
  const img = { data, width: w, height: h };
  const r = await cropFace(img, { size: 64 });
  assert.equal(r.source, 'center');
  assert.equal(r.face, null);
  assert.equal(r.faces.length, 0);
  assert.deepEqual(r.box, { x: 40, y: 0, size: 240 });
  assert.match(r.warnings.join('\n'), /no face found in the portrait; using a centre crop/);
  assert.deepEqual([r.image.width, r.image.height, r.image.data.length], [64, 64, 64 * 64 * 3]);
  // Left edge of the crop is image column 40: red ≈ 40·255/320 ≈ 32 at mid-height.
  const left = px(r.image, 0, 32);
  assert.ok(Math.abs(left[0]! - 33) <= 4, `left column red ${left[0]}`);
});

test('a drawn cartoon face is detected and the crop is centred on it', async (t) => {
  const face = { cx: 170, cy: 190, r: 80 };
  const img = await render(faceSvg(512, 384, [face]));
  const detector = await blazeFaceDetector();
  const t0 = performance.now();
  const r = await cropFace(img, { size: 128, detector });
  const ms = performance.now() - t0;
  t.diagnostic(`faces ${JSON.stringify(r.faces.map((f) => ({ x: Math.round(f.x), y: Math.round(f.y), w: Math.round(f.width), s: +f.score.toFixed(2) })))}, box ${JSON.stringify(r.box)}, ${ms.toFixed(0)} ms`);
  assert.equal(r.source, 'face', `warnings: ${r.warnings}`);
  assert.equal(r.faces.length, 1);
  const cx = r.box.x + r.box.size / 2;
  const cy = r.box.y + r.box.size / 2;
  // Centred on the drawn face within a quarter of its half-height (BlazeFace's box sits a little low,
  // around eyes-to-chin), and far from the picture's centre crop (256,192).
  assert.ok(Math.abs(cx - face.cx) < face.r * 0.25 && Math.abs(cy - face.cy) < face.r * 0.25, `crop centre (${cx}, ${cy}) vs face (${face.cx}, ${face.cy})`);
  assert.ok(r.box.size > face.r * 1.5 && r.box.size <= 384, `box size ${r.box.size}`);
  assert.deepEqual([r.image.width, r.image.height], [128, 128]);
  // The output's centre is face (skin #e0b090: red well above blue), not background (#88aaaa).
  let red = 0;
  let blue = 0;
  for (let y = 54; y < 74; y++) {
    for (let x = 54; x < 74; x++) {
      red += px(r.image, x, y)[0]!;
      blue += px(r.image, x, y)[2]!;
    }
  }
  assert.ok(red / 400 > blue / 400 + 40, `centre mean red ${red / 400}, blue ${blue / 400}`);
});

test('two faces: the larger is chosen, with a warning; near the edge the box is shifted inside the image', async (t) => {
  const big = { cx: 420, cy: 200, r: 90 };
  const img = await render(faceSvg(560, 420, [{ cx: 120, cy: 150, r: 55 }, big]));
  const r = await cropFace(img, { size: 96 });
  t.diagnostic(`faces ${JSON.stringify(r.faces.map((f) => ({ x: Math.round(f.x), y: Math.round(f.y), w: Math.round(f.width), s: +f.score.toFixed(2) })))}, box ${JSON.stringify(r.box)}`);
  assert.equal(r.source, 'face');
  assert.equal(r.faces.length, 2, 'both faces found');
  assert.match(r.warnings.join('\n'), /2 faces found; the crop is centred on the largest/);
  const fx = r.face!.x + r.face!.width / 2;
  assert.ok(Math.abs(fx - big.cx) < big.r * 0.25, `chosen face centre x ${fx} vs larger face ${big.cx}`);
  // The square centred on that face would cross the right edge: it is shifted left to end at it.
  assert.equal(r.box.x + r.box.size, 560, JSON.stringify(r.box));
  assert.ok(r.box.x <= fx && fx <= r.box.x + r.box.size && r.box.y >= 0 && r.box.y + r.box.size <= 420, JSON.stringify(r.box));
});

test('a manual crop box overrides detection and is used exactly', async () => {
  const w = 64;
  const h = 48;
  const data = Buffer.alloc(w * h * 3, 0);
  for (let y = 10; y < 30; y++) for (let x = 20; x < 40; x++) data.set([250, 10, 10], (y * w + x) * 3);
  const r = await cropFace({ data, width: w, height: h }, { size: 20, box: { x: 20, y: 10, size: 20 } });
  assert.equal(r.source, 'manual');
  assert.deepEqual(r.box, { x: 20, y: 10, size: 20 });
  assert.deepEqual(r.boxNormalized, { x: 20 / 64, y: 10 / 48, width: 20 / 64, height: 20 / 48 });
  // 1:1 crop of an all-red square.
  assert.ok(r.image.data.every((v, i) => v === [250, 10, 10][i % 3]));
  await assert.rejects(cropFace({ data, width: w, height: h }, { size: 20, box: { x: 50, y: 10, size: 20 } }), (e: unknown) => e instanceof MediaError && e.code === 'bad-crop');
});
