// UtilityEngineRunner drives a real engine process through engine/runtime/transport-electron.ts. No
// Electron here, so `utilityProcess` is stood in for by child_process.fork behind the same members
// Electron's UtilityProcess has (postMessage, 'message', 'exit' with a code, kill, stdout/stderr): the
// runner, the transport adapter and the engine process are all the real ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { ENGINE_ENTRY, tsxExecArgv } from '../engine/runtime/transport.js';
import type { UtilityProcessLike, UtilityProcessModuleLike } from '../engine/runtime/transport-electron.js';
import { UtilityEngineRunner } from './utility-runner.js';

const forkAsUtility: UtilityProcessModuleLike = {
  fork(modulePath, args, options) {
    const child = fork(modulePath, args ?? [], { execArgv: options?.execArgv ?? [], env: options?.env ?? process.env, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const up: UtilityProcessLike = {
      get pid() {
        return child.pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      postMessage: (m) => void child.send(m as never),
      on(event: string, cb: (...a: never[]) => void) {
        if (event === 'message') child.on('message', cb as (m: unknown) => void);
        // Electron reports only an exit code.
        else if (event === 'exit') child.on('exit', (code) => (cb as (c: number) => void)(code ?? 1));
        return up;
      },
      kill: () => child.kill('SIGKILL'),
    } as UtilityProcessLike;
    return up;
  },
};

test('the utilityProcess runner starts the engine, runs a job, and restarts it after a kill', { timeout: 120_000 }, async (t) => {
  const states: string[] = [];
  const runner = new UtilityEngineRunner({ utilityProcess: forkAsUtility, entry: ENGINE_ENTRY, execArgv: tsxExecArgv(), engineJob: () => 'selftest', onState: (s) => states.push(s) });
  t.after(() => runner.dispose());
  assert.equal(runner.state, 'stopped');
  const r1 = await runner.call<{ runs: number; checksum: number }>('selftest', { runs: 2, size: 8 });
  assert.equal(r1.runs, 2);
  const pid1 = runner.pid;
  assert.ok(pid1, 'the engine has a pid');
  assert.equal(runner.state, 'ready');
  process.kill(pid1, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runner.state, 'crashed');
  const r2 = await runner.call<{ runs: number; checksum: number }>('selftest', { runs: 2, size: 8 });
  assert.equal(r2.checksum, r1.checksum, 'the restarted engine computes the same');
  assert.notEqual(runner.pid, pid1, 'a new engine process');
  assert.deepEqual(states.slice(0, 2), ['starting', 'ready']);
  assert.ok(states.filter((s) => s === 'starting').length >= 2, `restarted: ${states.join(', ')}`);
});
