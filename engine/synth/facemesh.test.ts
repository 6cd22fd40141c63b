// The avatars must be real enough for FaceMesh: clip preparation and evaluation take lip and face
// regions and mouth opening from its landmarks. On rendered 256-pixel frames of several identities a
// face is found, and the landmarks' mouth opening follows the drawn one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faceMesher } from '../eval/face-mesh.js';
import { renderClip } from './clip.js';

test('FaceMesh finds the avatar in 256-pixel frames and its mouth opening follows the truth', async () => {
  const mesher = await faceMesher({ minConfidence: 0.2 });
  const S = 256;
  for (const [seed, split] of [
    [0, 'train'],
    [1, 'heldout'],
    [2, 'train'],
    [9, 'heldout'],
  ] as const) {
    const { frames, truth } = renderClip({ seed, split, seconds: 3, size: S });
    const open = truth.perFrame.mouthOpen;
    const wide = open.indexOf(Math.max(...open));
    const shut = open.indexOf(Math.min(...open));
    const mar: number[] = [];
    for (const i of [shut, wide]) {
      const lm = await mesher.landmarks(frames[i]!, S, S);
      assert.ok(lm, `${split} ${seed} frame ${i}: no face found`);
      assert.ok(lm.boxScore > 0.5, `${split} ${seed} frame ${i}: detector score ${lm.boxScore.toFixed(2)}`);
      const p = lm.points;
      const d = (a: number, b: number): number => Math.hypot(p[2 * a]! - p[2 * b]!, p[2 * a + 1]! - p[2 * b + 1]!);
      mar.push(d(13, 14) / d(78, 308)); // inner-lip gap over mouth width (MediaPipe numbering)
      // The mesh's mouth centre lies inside the truth's lip ellipse.
      const l = truth.perFrame.lips[i]!;
      const mx = (p[2 * 13]! + p[2 * 14]!) / 2;
      const my = (p[2 * 13 + 1]! + p[2 * 14 + 1]!) / 2;
      assert.ok(Math.hypot((mx - l.cx) / l.rx, (my - l.cy) / Math.max(l.ry, 4)) < 1.5, `${split} ${seed} frame ${i}: mesh mouth (${mx.toFixed(0)}, ${my.toFixed(0)}) vs lips (${l.cx.toFixed(0)}, ${l.cy.toFixed(0)})`);
    }
    assert.ok(mar[1]! > mar[0]! + 0.1, `${split} ${seed}: mouth aspect closed ${mar[0]!.toFixed(3)} vs open ${mar[1]!.toFixed(3)} (truth ${open[shut]} vs ${open[wide]})`);
  }
});
