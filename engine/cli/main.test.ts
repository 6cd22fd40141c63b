// The `refree` command as a user runs it: the bin launcher in a real Node process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DoctorReport } from './doctor.js';
import { formatDoctorReport } from './doctor.js';
import { main } from './main.js';
import type { CliIO } from './command.js';

const BIN = fileURLToPath(new URL('../../bin/refree.mjs', import.meta.url));
const refree = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: '/' });

function captureIO(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += `${t}\n`), stderr: (t: string) => void (io.err += t) };
  return io;
}

test('refree doctor --json prints one JSON object; the same report reads as a human table', () => {
  // cwd '/' also shows the launcher works from any folder.
  const r = refree('doctor', '--json');
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(r.status, report.ok ? 0 : 1);
  assert.deepEqual(report.backends.map((b) => b.backend), ['cuda', 'webgpu', 'cpu']);
  const cpu = report.backends.find((b) => b.backend === 'cpu')!;
  assert.equal(cpu.works, true);
  for (const b of report.backends) if (!b.works) assert.match(b.reason!, /^(skipped|failed) — /);
  assert.ok(report.selected.backend);
  assert.match(report.onnxruntime.version!, /^\d+\.\d+\.\d+/);
  assert.equal(report.node, process.version);
  assert.ok(report.ffmpeg.path && report.ffmpeg.version && report.ffmpeg.sourceLabel);
  assert.ok(report.ffprobe.path);
  assert.ok(report.gpu.gpus.length > 0 || /nvidia-smi/.test(report.gpu.reason!));
  // The human form of the same report (formatting only; a second doctor process would double the time).
  const text = formatDoctorReport(report);
  assert.match(text, /^ReFree Studio doctor/);
  assert.match(text, /\n {2}cpu +works/);
  assert.match(text, /→ sessions use (cuda|webgpu|cpu) by default/);
  assert.match(text, /\n {2}ffmpeg +\S+ +\/.*— from /);
  assert.match(text, /\nGPU\n {2}\S/);
});

test('help, version and command-line errors follow the conventions', async () => {
  let io = captureIO();
  assert.equal(await main(['--help'], io), 0);
  assert.match(io.out, /Commands:\n {2}doctor +check backends/);
  io = captureIO();
  assert.equal(await main(['doctor', '--help'], io), 0);
  assert.match(io.out, /^Usage: refree doctor \[--json\]/);
  io = captureIO();
  assert.equal(await main(['--version'], io), 0);
  assert.match(io.out, /^\d+\.\d+\.\d+\n$/);
  io = captureIO();
  assert.equal(await main(['frobnicate'], io), 2);
  assert.match(io.err, /unknown command "frobnicate"/);
  io = captureIO();
  assert.equal(await main(['frobnicate', '--json'], io), 2);
  const parsed = JSON.parse(io.out) as { ok: boolean; error: string };
  assert.equal(parsed.ok, false);
  // The message lists every registered command, so a user sees what exists.
  assert.match(parsed.error, /^unknown command "frobnicate" \(commands: doctor, selftest\b.*\)$/);
  io = captureIO();
  assert.equal(await main(['selftest', '--runs', 'x'], io), 2);
  assert.match(io.err, /--runs must be a positive integer, got "x"\nRun "refree selftest --help"/);
});

test('refree selftest --json runs the job in a separate engine process', () => {
  const r = refree('selftest', '--runs', '3', '--size', '16', '--backend', 'cpu', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; backend: string; runs: number; enginePid: number };
  assert.equal(out.ok, true);
  assert.equal(out.backend, 'cpu');
  assert.equal(out.runs, 3);
  assert.ok(out.enginePid > 0 && out.enginePid !== r.pid);
});
