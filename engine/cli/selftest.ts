// `refree selftest`: runs the engine's 'selftest' job in a separate engine process, with progress on
// stderr and Ctrl-C cancelling between runs. It shows the engine-process path end to end.
import { CancelledError } from '../common/engine-errors.js';
import { BACKEND_ORDER } from '../runtime/backends.js';
import { EngineClient } from '../runtime/engine-client.js';
import type { SelftestResult } from '../runtime/jobs/selftest.js';
import type { Backend } from '../runtime/session.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { json } from './output.js';

function intOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${String(v)}"`);
  return n;
}

export const selftest: Command = {
  name: 'selftest',
  summary: 'run a small graph N times in the engine process (progress, Ctrl-C cancels)',
  help: `Usage: refree selftest [--runs N] [--size N] [--backend cuda|webgpu|cpu] [--json]

Starts the engine process, opens a MatMul→Tanh session of size N×N on the preferred backend (falling
back in the order cuda, webgpu, cpu, with a reason for each skipped one) and runs it --runs times.
  --runs N       number of runs (default 20)
  --size N       matrix size (default 256)
  --backend B    backend to try first`,
  options: { runs: { type: 'string' }, size: { type: 'string' }, backend: { type: 'string' } },
  async run({ values, json: asJson, io, signal }) {
    const runs = intOption(values.runs, 'runs', 20);
    const size = intOption(values.size, 'size', 256);
    const backend = values.backend as string | undefined;
    if (backend !== undefined && !BACKEND_ORDER.includes(backend as Backend)) throw new UsageError(`--backend must be one of ${BACKEND_ORDER.join(', ')}, got "${backend}"`);
    const engine = await EngineClient.fork();
    try {
      const result = await engine.call<SelftestResult>('selftest', { runs, size, ...(backend ? { prefer: backend } : {}) }, {
        signal,
        onProgress: (p) => {
          if (io.isTTY && !asJson) io.stderr(`\r${p.message ?? `${p.done}/${p.total}`}   `);
        },
      });
      if (io.isTTY && !asJson) io.stderr('\n');
      if (asJson) io.stdout(json({ ok: true, enginePid: engine.pid, ...result }));
      else {
        io.stdout(`selftest: ${result.runs} runs of a ${size}×${size} MatMul→Tanh on ${result.backend} in the engine process (pid ${engine.pid}), ${result.msPerRun.toFixed(2)} ms per run, checksum ${result.checksum.toFixed(4)}`);
        for (const s of result.skipped) io.stdout(`  skipped ${s}`);
      }
      return 0;
    } catch (e) {
      if (e instanceof CancelledError) {
        if (io.isTTY && !asJson) io.stderr('\n');
        throw new Error('cancelled', { cause: e });
      }
      throw e;
    } finally {
      await engine.close();
    }
  },
};
