import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './train.js';

test('bench train --json --quick prints one JSON line: the three ratios, measured and simulated memory', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await run(['--json', '--quick', '--threads', '1', '--reps', '1']);
  } finally {
    console.log = log;
  }
  assert.equal(lines.length, 1, lines.join('\n'));
  const r = JSON.parse(lines[0]!) as Record<string, number> & { details: { memory: { measuredStepBytes: Record<string, number>; simulatedStepBytes: Record<string, number> } } };
  for (const k of ['sftOverForward', 'dpoOverForward', 'recomputePeakCut']) assert.ok(Number.isFinite(r[k]) && r[k]! > 0, `${k} = ${String(r[k])}`);
  const m = r.details.memory;
  for (const v of [...Object.values(m.measuredStepBytes), ...Object.values(m.simulatedStepBytes)]) assert.ok(v > 0, JSON.stringify(m));
});
