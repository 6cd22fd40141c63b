import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planChunks } from './chunks.js';

const o = { chunkLatentFrames: 8, motionLatentFrames: 1, stride: 4 };

test('a short clip is one chunk of exactly its latent length', () => {
  const p = planChunks(20, o); // 20 frames → ceil(19/4)+1 = 6 latent frames
  assert.equal(p.latentFrames, 6);
  assert.equal(p.chunks.length, 1);
  assert.deepEqual(p.chunks[0], { index: 0, start: 0, frames: 6, cond: 1, anchored: false, emitFrom: 0, emitTo: 6 });
  assert.equal(p.paddedVideoFrames, 21);
});

test('long clips: chunks overlap by the motion frames and emit every latent frame exactly once', () => {
  for (const [frames, motion] of [[150, 1], [900, 1], [151, 2], [29, 3]] as const) {
    const p = planChunks(frames, { ...o, motionLatentFrames: motion });
    const emitted: number[] = [];
    for (const c of p.chunks) {
      assert.equal(c.frames, p.chunkFrames);
      for (let j = c.emitFrom; j < c.emitTo; j++) emitted.push(j);
      if (c.index > 0) assert.equal(c.start, p.chunks[c.index - 1]!.start + p.chunkFrames - motion);
    }
    assert.deepEqual(emitted, Array.from({ length: p.latentFrames }, (_, i) => i));
    assert.ok(4 * (p.latentFrames - 1) + 1 >= frames);
    assert.ok(p.paddedVideoFrames >= 4 * (p.latentFrames - 1) + 1);
  }
  assert.equal(planChunks(150, o).chunks.length, 6); // 39 latent frames: 8 + 7·5 = 43 ≥ 39
});

test('with the portrait anchor, later chunks take one more leading frame (the anchor) and still emit every latent frame once', () => {
  for (const [frames, motion] of [[150, 1], [900, 1], [151, 2]] as const) {
    const p = planChunks(frames, { ...o, motionLatentFrames: motion, portraitAnchor: true });
    assert.equal(p.anchor, true);
    const emitted: number[] = [];
    for (const c of p.chunks) {
      for (let j = c.emitFrom; j < c.emitTo; j++) emitted.push(j);
      assert.equal(c.anchored, c.index > 0);
      assert.equal(c.cond, c.index === 0 ? 1 : motion + 1);
      // The motion frames are the previous chunk's last ones; the anchor's slot is the frame before them.
      if (c.index > 0) assert.equal(c.start + c.cond, p.chunks[c.index - 1]!.start + p.chunkFrames);
    }
    assert.deepEqual(emitted, Array.from({ length: p.latentFrames }, (_, i) => i));
    assert.ok(p.paddedVideoFrames >= 4 * (p.latentFrames - 1) + 1);
  }
  // 39 latent frames: 8 + 6·6 = 44 ≥ 39, one chunk more than without the anchor.
  assert.equal(planChunks(150, { ...o, portraitAnchor: true }).chunks.length, 7);
  assert.throws(() => planChunks(50, { ...o, motionLatentFrames: 7, portraitAnchor: true }), /between 1 and 6 with the portrait anchor/);
});

test('bad chunking options are refused', () => {
  assert.throws(() => planChunks(0, o), /at least one frame/);
  assert.throws(() => planChunks(50, { ...o, motionLatentFrames: 8 }), /motion frames/);
});
