import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, seededValues } from '../exec/gradcheck.js';
import { runOnce } from '../exec/run-once.js';
import { Graph } from '../graph/graph.js';
import { dpoLoss, dpoLossReference, groundTruthError, implicitAccuracy, regionalSftLoss } from './losses.js';

test('DPO loss over a 4-tuple: float64 gradients w.r.t. policy and reference errors match finite differences', async () => {
  // β·(d_i − d_j) of order 1 so that every pair sits in softplus' curved part.
  const r = await gradcheck(
    (g) => {
      const pe = g.input('policy_err', 'float64', [2, 4]);
      const re = g.input('ref_err', 'float64', [2, 4]);
      const omega = g.input('omega', 'float64', [2]);
      return { loss: dpoLoss(pe, re, 2.5, omega).loss, wrt: [pe, re, omega] };
    },
    { policy_err: seededValues(8, 11, 0.1, 0.9), ref_err: seededValues(8, 12, 0.1, 0.9), omega: Float64Array.from([1, 0.5]) },
  );
  assert.ok(r.checked >= 18 && r.maxRelError <= 1e-7, `max rel error ${r.maxRelError} (${r.worst}), ${r.checked} entries`);
});

test('DPO loss equals the host reference, and a policy that favours the better sample has a lower loss', async () => {
  const g = new Graph();
  const pe = g.input('policy_err', 'float32', [1, 4]);
  const re = g.input('ref_err', 'float32', [1, 4]);
  g.output(dpoLoss(pe, re, 2500).loss, 'loss');
  const ref = [0.31, 0.35, 0.4, 0.46];
  const good = [0.3, 0.351, 0.405, 0.47]; // improved on the ground truth, worse on the negatives
  const bad = [0.32, 0.349, 0.395, 0.45];
  const run = async (p: number[]): Promise<number> => (await runOnce(g, { policy_err: Float32Array.from(p), ref_err: Float32Array.from(ref) })).loss![0] as number;
  const lg = await run(good);
  const lb = await run(bad);
  assert.ok(Math.abs(lg - dpoLossReference(good, ref, 2500).loss) <= 1e-3 * Math.max(1, lg), `${lg} vs ${dpoLossReference(good, ref, 2500).loss}`);
  assert.ok(lg < 6 * Math.log(2) && lb > 6 * Math.log(2), `good ${lg}, bad ${lb} (6·log 2 = ${6 * Math.log(2)} at d = 0)`);
  assert.equal(implicitAccuracy(good.map((e, k) => e - ref[k]!)), 1);
  assert.equal(implicitAccuracy(bad.map((e, k) => e - ref[k]!)), 0);
});

test('the SFT anchor of DPO is the mean error on each tuple\'s ground truth alone, with its gradient', async () => {
  const g = new Graph();
  const pe = g.input('policy_err', 'float32', [2, 3]);
  g.output(groundTruthError(pe), 'anchor');
  const out = await runOnce(g, { policy_err: Float32Array.from([0.2, 9, 9, 0.4, 7, 7]) });
  assert.ok(Math.abs((out.anchor![0] as number) - 0.3) < 1e-6, `anchor ${out.anchor![0]}`);
  const r = await gradcheck(
    (h) => {
      const p = h.input('policy_err', 'float64', [2, 3]);
      return { loss: groundTruthError(p), wrt: [p] };
    },
    { policy_err: seededValues(6, 5, 0.1, 0.9) },
  );
  assert.ok(r.maxRelError <= 1e-7, `max rel error ${r.maxRelError}`);
});

test('regional SFT loss: float64 gradients match finite differences; weight 0 cells do not count', async () => {
  const shape = [2, 3, 2, 2, 3];
  const n = shape.reduce((a, b) => a * b, 1);
  const weights = Float64Array.from(seededValues(2 * 2 * 2 * 3, 5, 0, 100));
  for (let b = 0; b < 2; b++) for (let k = 0; k < 6; k++) weights[b * 12 + k] = 0; // frame 0 = reference
  const r = await gradcheck(
    (g) => {
      const pred = g.input('pred', 'float64', shape);
      const target = g.input('target', 'float64', shape);
      const w = g.input('w', 'float64', [2, 1, 2, 2, 3]);
      return { loss: regionalSftLoss(pred, target, w), wrt: [pred, target] };
    },
    { pred: seededValues(n, 1), target: seededValues(n, 2), w: weights },
  );
  assert.ok(r.maxRelError <= 1e-7, `max rel error ${r.maxRelError} (${r.worst})`);
  // Changing a prediction where the weight is 0 leaves the loss unchanged.
  const g = new Graph();
  const pred = g.input('pred', 'float64', shape);
  const target = g.input('target', 'float64', shape);
  const w = g.input('w', 'float64', [2, 1, 2, 2, 3]);
  g.output(regionalSftLoss(pred, target, w), 'loss');
  const p = seededValues(n, 1);
  const t = seededValues(n, 2);
  const base = (await runOnce(g, { pred: p, target: t, w: weights })).loss![0] as number;
  p[0] = p[0]! + 10; // item 0, channel 0, frame 0: weight 0
  const moved = (await runOnce(g, { pred: p, target: t, w: weights })).loss![0] as number;
  assert.equal(moved, base);
});
