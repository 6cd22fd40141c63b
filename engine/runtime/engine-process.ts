// The engine process's entry point. It runs under child_process.fork (CLI, web host) or Electron's
// utilityProcess (desktop app), never in a worker thread under Electron (DESIGN 8). It answers
// requests one job at a time, in arrival order: ORT's run() blocks this thread, and one GPU job at a
// time is the rule anyway. Extra job modules are named by `--jobs=<module URL or path>` arguments;
// each exports `jobs: JobTable`.
import { pathToFileURL } from 'node:url';
import { toErrorInfo, CancelledError } from '../common/engine-errors.js';
import type { EngineMessage } from '../common/engine-protocol.js';
import { isHostMessage } from '../common/engine-protocol.js';
import type { JobTable } from './engine-jobs.js';
import { makeContext } from './engine-jobs.js';
import { jobs as builtinJobs } from './jobs/index.js';

interface Port {
  post(msg: EngineMessage): void;
  listen(cb: (msg: unknown) => void): void;
  /** The host is gone (IPC channel closed): an orphaned engine must not linger holding GPU memory. */
  onHostGone(cb: () => void): void;
}

interface ElectronParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

function hostPort(): Port {
  const pp = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (pp) return { post: (m) => pp.postMessage(m), listen: (cb) => pp.on('message', (e) => cb(e.data)), onHostGone: () => undefined };
  const send = process.send?.bind(process);
  if (send) return { post: (m) => void send(m), listen: (cb) => process.on('message', cb), onHostGone: (cb) => process.on('disconnect', cb) };
  throw new Error('engine-process must be started by a host (child_process.fork with an IPC channel, or Electron utilityProcess)');
}

async function loadJobs(argv: readonly string[]): Promise<JobTable> {
  const table: JobTable = { ...builtinJobs };
  for (const a of argv) {
    if (!a.startsWith('--jobs=')) continue;
    const spec = a.slice('--jobs='.length);
    const url = /^[a-z]+:/i.test(spec) ? spec : pathToFileURL(spec).href;
    const mod = (await import(url)) as { jobs?: JobTable };
    if (!mod.jobs) throw new Error(`job module ${spec} does not export "jobs"`);
    Object.assign(table, mod.jobs);
  }
  return table;
}

async function main(): Promise<void> {
  const port = hostPort();
  const table = await loadJobs(process.argv.slice(2));
  const known = new Set<number>();
  const cancelled = new Set<number>();
  let chain: Promise<void> = Promise.resolve();

  const post = (m: EngineMessage): void => {
    try {
      port.post(m);
    } catch (e) {
      // A result that cannot be cloned must still answer the call.
      if (m.type === 'result') port.post({ type: 'error', id: m.id, error: { name: 'Error', message: `the job's result could not be sent to the host (${(e as Error).message})` } });
      else throw e;
    }
  };

  const runJob = async (id: number, job: string, params: unknown): Promise<void> => {
    try {
      if (cancelled.has(id)) throw new CancelledError(`${job} was cancelled before it started`);
      const handler = table[job];
      if (!handler) throw new Error(`unknown engine job "${job}" (this engine knows: ${Object.keys(table).sort().join(', ')})`);
      const ctx = makeContext((done, total, message) => post({ type: 'progress', id, done, total, ...(message !== undefined ? { message } : {}) }), () => cancelled.has(id), job);
      const value = await handler(params, ctx);
      post({ type: 'result', id, value });
    } catch (e) {
      post({ type: 'error', id, error: toErrorInfo(e) });
    } finally {
      known.delete(id);
      cancelled.delete(id);
    }
  };

  port.listen((msg) => {
    if (!isHostMessage(msg)) return;
    if (msg.type === 'request') {
      known.add(msg.id);
      chain = chain.then(() => runJob(msg.id, msg.job, msg.params));
    } else if (msg.type === 'cancel') {
      if (known.has(msg.id)) cancelled.add(msg.id);
    } else {
      void chain.then(() => process.exit(0));
    }
  });
  port.onHostGone(() => process.exit(0));
  port.post({ type: 'ready', pid: process.pid, jobs: Object.keys(table).sort() });
}

main().catch((e: unknown) => {
  // The first line is what a host shows; the stack follows for whoever reads the log.
  process.stderr.write(`engine process failed to start: ${(e as Error).message ?? String(e)}\n${(e as Error).stack ?? ''}\n`);
  process.exit(1);
});
