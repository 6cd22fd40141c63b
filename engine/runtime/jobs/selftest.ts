// 'selftest': opens a small MatMul→Tanh session on the preferred backend and runs it N times with a
// progress event and a cancel checkpoint between runs. It proves the whole engine-process path
// (fork, backend choice, ORT runs off the host's thread, progress, cancel) with real work.
import { Graph } from '../../graph/graph.js';
import { tanh } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/matmul.js';
import { BACKEND_ORDER, openSession } from '../backends.js';
import type { JobHandler } from '../engine-jobs.js';
import type { Backend } from '../session.js';

export interface SelftestParams {
  /** Number of ORT runs (default 10). */
  runs?: number;
  /** Matrix size n (x: [n,n] times w: [n,n]); default 64. */
  size?: number;
  prefer?: Backend;
}

export interface SelftestResult {
  backend: Backend;
  skipped: string[];
  runs: number;
  msPerRun: number;
  /** Sum of the output of the last run, the same on every run. */
  checksum: number;
}

function parseParams(p: unknown): Required<Omit<SelftestParams, 'prefer'>> & { prefer?: Backend } {
  const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
  const runs = o.runs ?? 10;
  const size = o.size ?? 64;
  if (!Number.isInteger(runs) || (runs as number) < 1) throw new Error(`selftest: "runs" must be a positive integer, got ${JSON.stringify(runs)}`);
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 4096) throw new Error(`selftest: "size" must be an integer from 1 to 4096, got ${JSON.stringify(size)}`);
  if (o.prefer !== undefined && !BACKEND_ORDER.includes(o.prefer as Backend)) throw new Error(`selftest: "prefer" must be one of ${BACKEND_ORDER.join(', ')}, got ${JSON.stringify(o.prefer)}`);
  return { runs: runs as number, size: size as number, ...(o.prefer ? { prefer: o.prefer as Backend } : {}) };
}

export const selftest: JobHandler = async (params, ctx) => {
  const { runs, size, prefer } = parseParams(params);
  const g = new Graph('selftest');
  const x = g.input('x', 'float32', [size, size]);
  const w = g.constant('float32', [size, size], Float32Array.from({ length: size * size }, (_, i) => Math.sin(i) / size));
  g.output(tanh(matmul(x, w)), 'y');
  const opened = await openSession(g, prefer ? { prefer } : {});
  try {
    const feed = Float32Array.from({ length: size * size }, (_, i) => Math.cos(i));
    let checksum = 0;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      await ctx.checkpoint();
      const y = (await opened.session.run({ x: feed })).y as Float32Array;
      checksum = y.reduce((s, v) => s + v, 0);
      ctx.progress(i + 1, runs, `run ${i + 1} of ${runs} on ${opened.backend}`);
    }
    const result: SelftestResult = { backend: opened.backend, skipped: opened.skipped, runs, msPerRun: (performance.now() - t0) / runs, checksum };
    return result;
  } finally {
    await opened.session.release();
  }
};
