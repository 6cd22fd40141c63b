import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError } from '../common/engine-errors.js';
import { gaussianNoise } from './noise.js';
import { sample } from './sampler.js';
import type { SampleOptions } from './sampler.js';
import type { GuidanceBranch, LatentShape, StepTime, VelocityFn } from './types.js';
import { gaussianFlow, gaussianVelocity, maxAbsDiff, meanStd } from './flow-fields.test-helper.js';

const fieldFn = (mu: number, s: number): VelocityFn => {
  const f = gaussianVelocity(mu, s);
  return async (x, time) => f(x, time.sigma);
};

test('with the exact velocity of N(μ, s²) data, many steps give samples with mean μ and std s (Euler and UniPC)', async () => {
  const shape: LatentShape = [4, 4, 32, 32]; // 16384 elements
  const mu = 0.4;
  const s = 0.3;
  for (const solver of ['euler', 'unipc'] as const) {
    // Euler is first order: it needs many more steps than UniPC for the same accuracy.
    const steps = solver === 'euler' ? 400 : 50;
    const r = await sample({ steps, shift: 3, solver, seed: 11, latentShape: shape, velocity: fieldFn(mu, s) });
    const noise = gaussianNoise(11, 0, r.latents.length);
    const exact = gaussianFlow(mu, s, noise, r.schedule.sigmas[0]!, 0);
    const err = maxAbsDiff(r.latents, exact);
    const { mean, std } = meanStd(r.latents);
    const noiseStats = meanStd(noise);
    // the flow is μ + s·(standardised noise), so the sample statistics follow the noise's
    assert.ok(err < (solver === 'euler' ? 0.03 : 0.005), `${solver}: max |x − exact| ${err}`);
    assert.ok(Math.abs(mean - mu) < 4 * (s / Math.sqrt(r.latents.length)) + 0.005, `${solver}: mean ${mean}`);
    assert.ok(Math.abs(std / s - noiseStats.std) < 0.02 && Math.abs(std / s - 1) < 0.03, `${solver}: std ${std}`);
    assert.equal(r.modelCalls, steps);
  }
});

test('deterministic: same seed → bit-identical latents; another seed or stream → different', async () => {
  const opts: SampleOptions = { steps: 6, shift: 5, solver: 'unipc', seed: 5, latentShape: [2, 3, 4, 4], velocity: fieldFn(0.1, 0.5), guidance: { audio: 3 } };
  const a = (await sample(opts)).latents;
  const b = (await sample(opts)).latents;
  assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
  const c = (await sample({ ...opts, seed: 6 })).latents;
  const d = (await sample({ ...opts, noiseStream: 1 })).latents;
  assert.ok(maxAbsDiff(a, c) > 0.1 && maxAbsDiff(a, d) > 0.1);
});

test('TI2V: frame 0 is the clean latent in every model input, gets timestep 0, and is preserved exactly', async () => {
  const [C, F, H, W] = [3, 4, 2, 5];
  const z = Float32Array.from({ length: C * H * W }, (_, i) => Math.fround(Math.sin(i) * 1.7 + 0.1));
  const frame0 = (x: Float32Array): number[] => {
    const out: number[] = [];
    for (let c = 0; c < C; c++) out.push(...x.subarray(c * F * H * W, c * F * H * W + H * W));
    return out;
  };
  const seen: StepTime[] = [];
  const field = gaussianVelocity(0.2, 0.5);
  const steps: number[] = [];
  for (const solver of ['euler', 'unipc'] as const) {
    seen.length = 0;
    steps.length = 0;
    const r = await sample({
      steps: 5,
      shift: 5,
      solver,
      seed: 3,
      latentShape: [C, F, H, W],
      firstFrameLatent: z,
      velocity: async (x, time) => {
        assert.deepEqual(frame0(x), [...z], `step ${time.step}: frame 0 of the model input`);
        seen.push(time);
        return field(x, time.sigma);
      },
      onStep: (i, total, x0) => {
        steps.push(i);
        assert.equal(total, 5);
        assert.deepEqual(frame0(x0), [...z]);
      },
    });
    assert.deepEqual(frame0(r.latents), [...z]);
    assert.deepEqual(steps, [0, 1, 2, 3, 4]);
    for (const time of seen) {
      assert.equal(time.frameTimesteps.length, F);
      assert.equal(time.frameTimesteps[0], 0);
      for (let f = 1; f < F; f++) assert.equal(time.frameTimesteps[f], Math.fround(time.timestep));
    }
    assert.deepEqual(seen.map((t) => t.timestep), [...r.schedule.timesteps]);
    // the other frames were actually sampled (they are not the noise, not z)
    assert.ok(maxAbsDiff(r.latents, gaussianNoise(3, 0, r.latents.length)) > 0.5);
  }
  await assert.rejects(sample({ steps: 2, shift: 1, solver: 'euler', seed: 0, latentShape: [C, F, H, W], firstFrameLatent: new Float32Array(3), velocity: fieldFn(0, 1) }), /firstFrameLatent has 3 values, expected C·H·W/);
});

test('guidance: passes per step and their conditioning flags reach the callback; guidance 1 is one pass', async () => {
  const calls: string[] = [];
  const velocity: VelocityFn = async (x, _t, branch: GuidanceBranch) => {
    calls.push(`${branch.name}:${branch.audio ? 'A' : '-'}${branch.text ? 'T' : '-'}`);
    return new Float32Array(x.length).fill(branch.audio ? 1 : 0);
  };
  const base = { steps: 3, shift: 5, solver: 'euler' as const, seed: 1, latentShape: [1, 1, 2, 2] as LatentShape, velocity };
  let r = await sample({ ...base, guidance: { audio: 1 } });
  assert.equal(r.modelCalls, 3);
  assert.deepEqual(calls, ['cond:AT', 'cond:AT', 'cond:AT']);
  calls.length = 0;
  r = await sample({ ...base, guidance: { audio: 4 } });
  assert.equal(r.modelCalls, 6);
  assert.deepEqual(calls.slice(0, 2), ['cond:AT', 'noAudio:-T']);
  // v = 0 + 4·(1 − 0) = 4 everywhere, so Euler from σ=1 to 0 moves x by −4
  const noise = gaussianNoise(1, 0, 4);
  assert.ok(maxAbsDiff(r.latents, Array.from(noise, (n) => n - 4)) < 1e-5);
  calls.length = 0;
  r = await sample({ ...base, guidance: { audio: 4, text: 2 } });
  assert.equal(r.modelCalls, 9);
  assert.deepEqual(calls.slice(0, 3), ['cond:AT', 'noAudio:-T', 'uncond:--']);
});

test('cancellation: an abort stops before the next model pass with a CancelledError', async () => {
  const ac = new AbortController();
  let calls = 0;
  const run = sample({
    steps: 10,
    shift: 5,
    solver: 'unipc',
    seed: 1,
    latentShape: [1, 2, 2, 2],
    guidance: { audio: 2 },
    signal: ac.signal,
    velocity: async (x) => {
      calls++;
      return new Float32Array(x.length);
    },
    onStep: (i) => {
      if (i === 2) ac.abort();
    },
  });
  await assert.rejects(run, (e: unknown) => e instanceof CancelledError && /before step 4 of 10/.test(e.message));
  assert.equal(calls, 3 * 2); // steps 0..2, two passes each
  calls = 0;
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(sample({ steps: 3, shift: 1, solver: 'euler', seed: 1, latentShape: [1, 1, 1, 1], signal: pre.signal, velocity: async (x) => (calls++, new Float32Array(x.length)) }), CancelledError);
  assert.equal(calls, 0);
});

test('a velocity of the wrong size is an error that says what was expected', async () => {
  await assert.rejects(
    sample({ steps: 2, shift: 1, solver: 'euler', seed: 1, latentShape: [1, 1, 2, 2], velocity: async () => new Float32Array(3) }),
    /velocity for pass 'cond' at step 0 returned 3 values, expected a Float32Array of 4/,
  );
});
