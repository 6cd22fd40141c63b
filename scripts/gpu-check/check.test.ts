// `npm run gpu-check -- --local` end to end (real ORT sessions on the CPU, real child processes), and
// the stage deadline: a stage that overruns is stopped and reported, and the stages after it still run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STAGES } from './plan.js';
import type { Report } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gpu-check-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function check(args: string[]): { report: Report; status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check/check.ts', '--local', '--json', '--work', path.join(tmp, 'work'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 170_000,
  });
  assert.ok(r.stdout.trim(), `no report on stdout; stderr: ${r.stderr.slice(-2000)}`);
  return { report: JSON.parse(r.stdout) as Report, status: r.status, stderr: r.stderr };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

test('--local runs every stage on the CPU and fills the same fields as a GPU run', { timeout: 180_000 }, () => {
  const out = path.join(tmp, 'out');
  const { report: r, status, stderr } = check(['--out', out]);
  assert.equal(status, 0, stderr.slice(-2000));
  assert.equal(r.schema, 'refree-gpu-check/1');
  assert.equal(r.mode, 'local');
  assert.equal(r.ok, true);
  assert.deepEqual(Object.keys(r.stages), [...STAGES]);
  for (const s of STAGES) {
    const st = r.stages[s];
    assert.ok(st.status === 'ok' || (s === 'loraSft' && st.status === 'not-available'), `${s}: ${st.status} ${st.reason}`);
    assert.ok(st.seconds <= st.budgetSeconds + 1, `${s} took ${st.seconds} s of ${st.budgetSeconds}`);
  }
  // Every backend is listed, and each one that does not open says why.
  assert.deepEqual(r.backends.map((b) => (b as { backend: string }).backend), ['cuda', 'webgpu', 'cpu']);
  for (const b of r.backends as { works: boolean; reason?: string }[]) if (!b.works) assert.match(b.reason ?? '', /\w{10}/);
  const x = r.results;
  assert.equal(x.backend, 'cpu');
  // Each attention form was tried in its own process; the DiT stages used the first that ran.
  assert.deepEqual(Object.keys((r.stages.attention.data as { forms: object }).forms), ['fused', 'blockwise', 'naive']);
  assert.ok(x.attention && x.attention.length > 0);
  assert.equal((r.stages.dit.data as { attention: string }).attention, x.attention[0]);
  for (const v of [x.ditStepSeconds, x.ditSpeechStepSeconds, x.vaeDecodeSeconds]) assert.ok(isNum(v) && v > 0, String(v));
  for (const k of ['dit', 'ditSpeech', 'ditSpeechGuided'] as const) {
    const f = x.projectedFps[k];
    assert.deepEqual(Object.keys(f), ['steps50', 'steps8']);
    assert.ok(isNum(f.steps50) && isNum(f.steps8) && f.steps8 > f.steps50, JSON.stringify(f));
  }
  // fp16 against fp32 with the same weights and inputs: close, not identical, nothing non-finite.
  assert.ok(isNum(x.precision.velocityMaxRelErr) && x.precision.velocityMaxRelErr > 0 && x.precision.velocityMaxRelErr < 0.02, String(x.precision.velocityMaxRelErr));
  assert.ok(isNum(x.precision.framesMaxRelErr) && x.precision.framesMaxRelErr < 0.05, String(x.precision.framesMaxRelErr));
  assert.equal(x.precision.nonFiniteFloat16, 0);
  assert.deepEqual(x.nonFinite, { dit: 0, ditSpeech: 0, vae: 0 });
  // The trainer's SFT step ran, in float16 or, when float16 cannot run, in float32 with the reason kept.
  assert.ok(isNum(x.loraSft.stepSeconds) && x.loraSft.stepSeconds > 0, JSON.stringify(x.loraSft));
  assert.ok(x.loraSft.dtype === 'float16' || (x.loraSft.dtype === 'float32' && /\w/.test(x.loraSft.float16Error ?? '')), JSON.stringify(x.loraSft));
  // No nvidia-smi here: GPU memory is null with the reason, host memory is measured.
  assert.equal(x.peakGpuMiB.dit, null);
  assert.match(r.stages.dit.gpuMemory?.reason ?? '', /nvidia-smi/);
  assert.ok(isNum(x.peakRssMiB.dit) && x.peakRssMiB.dit > 10);
  const sizes = r.sizes as { latent: { frames: number; tokens: number }; pixels: { frames: number } };
  assert.equal(sizes.pixels.frames, 4 * (sizes.latent.frames - 1) + 1);
  // The same report on disk, and the readable summary.
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'gpu-check.json'), 'utf8')), r);
  const txt = readFileSync(path.join(out, 'gpu-check.txt'), 'utf8');
  assert.match(txt, /DiT step: [\d.]+ s/);
  assert.match(txt, /float16 vs float32: velocity max rel err [\d.e-]+/);
});

test('a stage that runs out of its time is stopped and reported, and the next stage still runs', { timeout: 120_000 }, () => {
  const { report: r, status } = check(['--out', path.join(tmp, 'out2'), '--only', 'precision,loraSft', '--stage-budget', 'precision=0.5']);
  assert.equal(status, 2);
  assert.equal(r.ok, false);
  assert.equal(r.stages.precision.status, 'timeout');
  assert.match(r.stages.precision.reason ?? '', /ran out of its 0\.5 s and was stopped/);
  assert.ok(r.stages.precision.seconds < 5, `stopped after ${r.stages.precision.seconds} s`);
  assert.equal(r.results.precision.velocityMaxRelErr, null);
  assert.equal(r.stages.probe.status, 'ok');
  assert.equal(r.stages.weights.status, 'ok');
  assert.equal(r.stages.dit.status, 'skipped');
  assert.equal(r.stages.dit.reason, 'not selected (--only)');
  assert.ok(['ok', 'not-available'].includes(r.stages.loraSft.status));
});

test('bad arguments get one sentence and the usage', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check/check.ts', '--only', 'ditt'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /--only: unknown stage ditt \(stages: probe, attention, weights, dit/);
  assert.match(r.stderr, /usage: npm run gpu-check/);
});
