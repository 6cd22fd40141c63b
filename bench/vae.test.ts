import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

test('bench vae --json --quick prints one JSON line whose ratios follow from its timings', () => {
  // A child process: the test runner owns this process's stdout.
  const child = spawnSync(process.execPath, ['--import', 'tsx', main, 'vae', '--json', '--quick', '--reps', '1'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(child.status, 0, child.stderr);
  const out = child.stdout;
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1, out);
  const r = JSON.parse(lines[0]!) as { seconds: Record<string, number>; stepOverForward: number; decoderOnlyOverStep: number; pass: { stepOverForward: boolean } };
  for (const k of ['forward', 'step', 'decoderOnlyStep']) assert.ok(r.seconds[k]! > 0 && Number.isFinite(r.seconds[k]), `${k} = ${r.seconds[k]}`);
  assert.ok(Math.abs(r.stepOverForward - r.seconds.step! / r.seconds.forward!) < 0.01 + 0.01 * r.stepOverForward);
  assert.ok(Math.abs(r.decoderOnlyOverStep - r.seconds.decoderOnlyStep! / r.seconds.step!) < 0.01 + 0.01 * r.decoderOnlyOverStep);
  assert.equal(r.pass.stepOverForward, r.stepOverForward <= 4);
});
