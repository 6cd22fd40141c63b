import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runFfmpeg } from '../../media/ffmpeg-run.js';
import { displaySize, fitSize, readRateFrames } from './frames.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'refree-frames-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

test('a 30 fps clip comes out at 15 fps; a rotated phone clip at its displayed size', async () => {
  const plain = path.join(tmp, 'plain.mp4');
  const rotated = path.join(tmp, 'rotated.mp4');
  assert.equal((await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', plain])).code, 0);
  assert.equal((await runFfmpeg(['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated])).code, 0);
  assert.deepEqual(await displaySize(plain), { width: 320, height: 240 });
  assert.deepEqual(await displaySize(rotated), { width: 240, height: 320 });
  assert.equal(await displaySize(path.join(tmp, 'missing.mp4')), null);

  let n = 0;
  for await (const f of readRateFrames(plain, { fps: 15, width: 160, height: 120 })) {
    assert.equal(f.data.length, 160 * 120 * 3);
    n++;
  }
  assert.equal(n, 30, '2 s at 15 fps');
  // The rotated clip decodes upright: its frames fill the displayed (portrait) size exactly.
  const size = fitSize(240, 320, 160);
  assert.deepEqual(size, { width: 120, height: 160 });
  let m = 0;
  for await (const f of readRateFrames(rotated, { fps: 15, ...size, maxFrames: 5 })) {
    assert.equal(f.width, 120);
    m++;
  }
  assert.equal(m, 5);
  // Upright, not squashed: the rotated clip's first frame is the plain one turned a quarter.
  const first = async (file: string, width: number, height: number): Promise<Uint8Array> => {
    for await (const f of readRateFrames(file, { fps: 15, width, height, maxFrames: 1 })) return f.data;
    throw new Error('no frame');
  };
  const P = await first(plain, 320, 240);
  const R = await first(rotated, 240, 320);
  const diff = (turn: (x: number, y: number) => [number, number]): number => {
    let d = 0;
    for (let y = 0; y < 320; y++)
      for (let x = 0; x < 240; x++) {
        const [px, py] = turn(x, y);
        for (let c = 0; c < 3; c++) d += Math.abs(R[(y * 240 + x) * 3 + c]! - P[(py * 320 + px) * 3 + c]!);
      }
    return d / (240 * 320 * 3);
  };
  const best = Math.min(diff((x, y) => [y, 239 - x]), diff((x, y) => [319 - y, x]));
  assert.ok(best < 8, `rotated frame differs from the turned plain frame by ${best} per channel`);
});
