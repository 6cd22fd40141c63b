// Backend choice with explicit fallback, on real ORT sessions. Which backends exist depends on the
// machine; each test asserts what must hold on this machine and says which branch it took.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../graph/graph.js';
import { add, mul } from '../graph/ops/elementwise.js';
import { cudaLibraryProblem, cudaProviderLibraries, gpuDeviceNodePresent, openSession, ortBinaryDir, planBackends, probeBackend } from './backends.js';

function doubler(dtype: 'float32' | 'float64' = 'float32'): Graph {
  const g = new Graph('doubler');
  const x = g.input('x', dtype, [4]);
  g.output(add(mul(x, 2), 0.5), 'y');
  return g;
}

test('the CUDA library check names the missing files and says how to install them', () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'refree-ortbin-'));
  const why = cudaLibraryProblem(empty, 'linux');
  assert.ok(why, 'an empty folder has no CUDA provider');
  assert.match(why, /^skipped — CUDA provider libraries not installed \(libonnxruntime_providers_shared\.so, libonnxruntime_providers_cuda\.so missing in /);
  assert.match(why, /--onnxruntime-node-install=cuda12/);
  assert.ok(!why.includes('\n'), 'one line');
  for (const f of cudaProviderLibraries('linux')) writeFileSync(path.join(empty, f), '');
  assert.equal(cudaLibraryProblem(empty, 'linux'), null, 'present files pass the check');
  assert.match(cudaLibraryProblem(empty, 'darwin')!, /macOS/);
  assert.ok(ortBinaryDir()?.endsWith(path.join(process.platform, process.arch)));
});

test('asking explicitly for cuda without its libraries falls back with a one-line reason', async (t) => {
  const libsMissing = cudaLibraryProblem() !== null;
  const o = await openSession(doubler(), { prefer: 'cuda' });
  try {
    const y = (await o.session.run({ x: Float32Array.from([1, 2, 3, -4]) })).y as Float32Array;
    assert.deepEqual(Array.from(y), [2.5, 4.5, 6.5, -7.5]);
    if (!libsMissing) {
      t.diagnostic(`CUDA libraries present here; opened on ${o.backend}`);
      return;
    }
    assert.notEqual(o.backend, 'cuda');
    assert.equal(o.session.backend, o.backend);
    assert.match(o.skipped[0]!, /^cuda: skipped — CUDA provider libraries not installed/);
    for (const s of o.skipped) assert.ok(!s.includes('\n'), `one line: ${s}`);
    t.diagnostic(`fell back to ${o.backend}: ${o.skipped.join(' | ')}`);
  } finally {
    await o.session.release();
  }
});

test('the cpu backend alone, without fallback, opens with nothing skipped', async () => {
  const o = await openSession(doubler(), { prefer: ['cpu'], fallback: false });
  assert.equal(o.backend, 'cpu');
  assert.deepEqual(o.skipped, []);
  await o.session.release();
});

test('automatic choice: reasons for every backend before the one used, and cpu as the last resort', async (t) => {
  const o = await openSession(doubler());
  const order = ['cuda', 'webgpu', 'cpu'];
  const idx = order.indexOf(o.backend);
  assert.equal(o.skipped.length, idx, `one reason per backend before ${o.backend}`);
  o.skipped.forEach((s, i) => assert.ok(s.startsWith(`${order[i]}: `), s));
  if (gpuDeviceNodePresent() === false) {
    // Without a GPU device, a WebGPU adapter is a software renderer: the automatic order skips it.
    assert.equal(o.backend, 'cpu');
    assert.match(o.skipped[1]!, /^webgpu: skipped — no GPU device on this machine/);
  }
  t.diagnostic(`auto → ${o.backend}`);
  await o.session.release();
  const plan = await planBackends();
  assert.equal(plan.order[0], o.backend);
  assert.equal(plan.order.at(-1), 'cpu');
});

test('webgpu asked for explicitly: runs when an adapter works, otherwise says why and falls back', async (t) => {
  const status = await probeBackend('webgpu');
  const o = await openSession(doubler(), { prefer: 'webgpu' });
  const y = (await o.session.run({ x: Float32Array.from([0, 1, 2, 3]) })).y as Float32Array;
  assert.deepEqual(Array.from(y), [0.5, 2.5, 4.5, 6.5]);
  if (status.works) assert.equal(o.backend, 'webgpu');
  else {
    assert.notEqual(o.backend, 'webgpu');
    assert.match(o.skipped[0]!, /^webgpu: failed — /);
  }
  t.diagnostic(`webgpu probe: ${status.works ? 'works' : status.reason}`);
  await o.session.release();
});

test('a backend that cannot open this model is skipped with ORT\'s reason (float64 on webgpu, CPU fallback off)', async (t) => {
  const status = await probeBackend('webgpu');
  if (!status.works) {
    t.skip(`no WebGPU adapter here: ${status.reason}`);
    return;
  }
  const o = await openSession(doubler('float64'), { prefer: 'webgpu', disableCpuFallback: true });
  assert.equal(o.backend, 'cpu');
  assert.match(o.skipped[0]!, /^webgpu: failed to open this model — .*fallback to CPU EP has been explicitly disabled/);
  const y = (await o.session.run({ x: Float64Array.from([1, 2, 3, 4]) })).y as Float64Array;
  assert.deepEqual(Array.from(y), [2.5, 4.5, 6.5, 8.5]);
  await o.session.release();
});
