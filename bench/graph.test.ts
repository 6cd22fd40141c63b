import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './graph.js';

test('bench graph --json --quick prints exactly one JSON line with the four headline figures', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await run(['--json', '--quick', '--threads', '1', '--reps', '1', '--no-fused']);
  } finally {
    console.log = log;
  }
  assert.equal(lines.length, 1, lines.join('\n'));
  const r = JSON.parse(lines[0]!) as Record<string, unknown> & { details: { loraStep: { loss: number[] } } };
  for (const k of ['matmulGflops', 'forwardGflops', 'forwardOfCeiling', 'loraStepOverForward']) {
    assert.ok(typeof r[k] === 'number' && Number.isFinite(r[k]) && (r[k] as number) > 0, `${k} = ${String(r[k])}`);
  }
  assert.ok((r.forwardOfCeiling as number) === Math.round(((r.forwardGflops as number) / (r.matmulGflops as number)) * 1000) / 1000 || Math.abs((r.forwardOfCeiling as number) - (r.forwardGflops as number) / (r.matmulGflops as number)) < 2e-3);
  assert.ok(r.details.loraStep.loss.every(Number.isFinite));
});
