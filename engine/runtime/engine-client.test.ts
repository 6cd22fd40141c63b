// The engine process, for real: a forked Node process running ORT sessions. Progress arrives,
// cancel stops a job between runs and leaves the engine usable, errors carry a sentence, and a
// killed engine rejects pending calls instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, EngineDiedError, EngineJobError } from '../common/engine-errors.js';
import type { Progress } from '../common/engine-protocol.js';
import { EngineClient } from './engine-client.js';
import type { SelftestResult } from './jobs/selftest.js';

test('engine process: progress, results, errors and cancel between runs', async (t) => {
  const engine = await EngineClient.fork();
  t.after(() => engine.close());
  assert.ok(engine.pid && engine.pid !== process.pid, 'a separate process');
  assert.ok(engine.jobs.includes('selftest'));

  await t.test('progress events arrive in order and the result comes back', async () => {
    const seen: Progress[] = [];
    const r = await engine.call<SelftestResult>('selftest', { runs: 5, size: 32, prefer: 'cpu' }, { onProgress: (p) => seen.push(p) });
    assert.deepEqual(seen.map((p) => [p.done, p.total]), [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    assert.match(seen[0]!.message!, /run 1 of 5 on cpu/);
    assert.equal(r.backend, 'cpu');
    assert.equal(r.runs, 5);
    assert.ok(Number.isFinite(r.checksum) && r.checksum !== 0);
  });

  await t.test('cancel stops the job between runs; the engine stays usable', async () => {
    const controller = new AbortController();
    let last = 0;
    const total = 200_000;
    const call = engine.call('selftest', { runs: total, size: 64, prefer: 'cpu' }, {
      signal: controller.signal,
      onProgress: (p) => {
        last = p.done;
        if (p.done === 3) controller.abort();
      },
    });
    await assert.rejects(call, (e: Error) => e instanceof CancelledError && /selftest was cancelled/.test(e.message));
    assert.ok(last >= 3 && last < total, `stopped after ${last} of ${total} runs`);
    t.diagnostic(`cancel took effect after run ${last}`);
    const r = await engine.call<SelftestResult>('selftest', { runs: 2, size: 8, prefer: 'cpu' });
    assert.equal(r.runs, 2);
  });

  await t.test('an aborted signal before the call rejects without running', async () => {
    await assert.rejects(engine.call('selftest', {}, { signal: AbortSignal.abort() }), CancelledError);
  });

  await t.test('job errors carry a sentence', async () => {
    await assert.rejects(engine.call('no-such-job'), (e: Error) => e instanceof EngineJobError && /unknown engine job "no-such-job" \(this engine knows: selftest\)/.test(e.message));
    await assert.rejects(engine.call('selftest', { runs: -1 }), (e: Error) => e instanceof EngineJobError && /"runs" must be a positive integer, got -1/.test(e.message));
  });
});

test('a killed engine (SIGKILL) rejects pending calls with how it died, and later calls at once', async () => {
  const engine = await EngineClient.fork();
  const pid = engine.pid!;
  let killed = false;
  const queued = engine.call('selftest', { runs: 2, prefer: 'cpu' });
  const running = engine.call('selftest', { runs: 1_000_000, size: 64, prefer: 'cpu' }, {
    onProgress: () => {
      if (!killed) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    },
  });
  // The first queued call finishes before the long one starts.
  assert.equal((await queued as SelftestResult).runs, 2);
  await assert.rejects(running, (e: Error) => e instanceof EngineDiedError && /the engine process was killed by signal SIGKILL while running selftest/.test(e.message));
  assert.equal(engine.running, false);
  await assert.rejects(engine.call('selftest'), (e: Error) => e instanceof EngineDiedError && /start a new one/.test(e.message));
  await engine.close(); // no-op on a dead engine, must not hang
});

test('an engine that dies before it is ready is reported with its output', async () => {
  await assert.rejects(EngineClient.fork({ jobModules: ['/nonexistent/jobs-module.ts'] }), (e: Error) => {
    assert.ok(e instanceof EngineDiedError);
    assert.match(e.message, /the engine process exited with code 1 before it was ready/);
    assert.match(e.message, /nonexistent/);
    return true;
  });
});
