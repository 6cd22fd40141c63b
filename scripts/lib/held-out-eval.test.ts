// filterVideo: the truth videos of `npm run eval:limits` with a known loss of detail. Real ffmpeg.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ffmpegPath } from '../../engine/runtime/ffmpeg.js';
import { probeMedia } from '../../engine/media/probe.js';
import { probeVideo, readFrames } from '../../engine/media/video-reader.js';
import { DARKER_SKIN_LUMA, filterVideo, measuredBySkinTone } from './held-out-eval.js';

let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function clip(): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'held-out-eval-'));
  const file = path.join(dir, 'clip.mp4');
  const r = spawnSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=128x128:rate=15:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
  assert.equal(r.status, 0, r.stderr?.toString());
  return file;
}

/** Mean absolute difference between horizontally neighbouring pixels: how much fine detail a frame has. */
async function detail(file: string): Promise<number> {
  let sum = 0;
  let n = 0;
  for await (const f of readFrames(file)) {
    for (let i = 3; i < f.data.length; i += 3) {
      if ((i / 3) % f.width === 0) continue;
      sum += Math.abs(f.data[i]! - f.data[i - 3]!);
      n++;
    }
  }
  return sum / n;
}

test('a video through a down-and-up scaling filter keeps its size, frame count and sound but loses detail', async () => {
  const src = await clip();
  const out = path.join(dir, 'quarter.mp4');
  await filterVideo(src, 'scale=32:32:flags=area,scale=128:128:flags=bicubic', out);
  const [a, b] = [await probeVideo(src), await probeVideo(out)];
  assert.deepEqual([b.width, b.height], [128, 128]);
  assert.equal(b.frameCount, a.frameCount);
  assert.ok((await probeMedia(out))?.streams.some((s) => s.codecType === 'audio'), 'the sound is copied');
  // testsrc2 is mostly flat colour, so its edges keep about 2/3 of their contrast at quarter size.
  const [source, quarter] = [await detail(src), await detail(out)];
  assert.ok(quarter < 0.8 * source, `quarter resolution has less fine detail: ${quarter} vs ${source}`);
  assert.deepEqual((await readdir(dir)).sort(), ['clip.mp4', 'quarter.mp4'], 'no partial file left');
});

test('an invalid filter is a clear error naming the filter, and leaves no output', async () => {
  const src = dir ? path.join(dir, 'clip.mp4') : await clip();
  const out = path.join(dir, 'bad.mp4');
  await assert.rejects(filterVideo(src, 'nosuchfilter=3', out), /could not apply "nosuchfilter=3"/);
  assert.ok(!(await readdir(dir)).includes('bad.mp4'));
});

test('clips are counted by skin tone from their truth, measured or not', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'skin-tone-'));
  try {
    // Luma of rgb(123,77,47) is 87 (darker); of rgb(241,194,125) 192 (lighter); rgb(110,110,110) is 110, the threshold itself.
    const skins = { a: 'rgb(123,77,47)', b: 'rgb(241,194,125)', c: 'rgb(123, 77, 47)', d: 'rgb(110,110,110)' };
    for (const [id, skin] of Object.entries(skins)) await writeFile(path.join(tmp, `${id}.json`), JSON.stringify({ identity: { skin } }));
    const row = (clip: string, ok: boolean): { clip: string; video: string; result: Record<string, unknown> } => ({ clip, video: `${clip}.mp4`, result: ok ? { ok: true } : { ok: false, error: 'no face' } });
    const counts = await measuredBySkinTone([row('a', false), row('b', true), row('c', true), row('d', false)], tmp);
    assert.equal(DARKER_SKIN_LUMA, 110);
    assert.deepEqual(counts, { darker: { clips: 2, measured: 1 }, lighter: { clips: 2, measured: 1 } });
    await writeFile(path.join(tmp, 'e.json'), JSON.stringify({ identity: {} }));
    await assert.rejects(measuredBySkinTone([row('e', true)], tmp), /e\.json .* names no skin colour/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
