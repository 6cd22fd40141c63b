// `refree farm worker`: takes exports from the farm's queue one at a time and runs them in this
// machine's engine process until stopped (Ctrl-C or SIGTERM: the running job stops at its next
// checkpoint and goes back to the queue for any worker to resume). A line per job event on stderr;
// `--json`: the events as JSON lines on stderr and one JSON object on stdout when it stops.
import type { FarmWorkerEvent } from '../farm/worker.js';
import { FarmWorker } from '../farm/worker.js';
import type { CommandContext } from './command.js';
import { UsageError } from './command.js';
import { connectionFrom, numberOption, sharedFrom } from './farm-options.js';
import { ProgressLine } from './progress-line.js';

const BACKENDS = ['cuda', 'webgpu', 'cpu'] as const;

export async function farmWorkerCommand(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  const connection = connectionFrom(v);
  const shared = sharedFrom(v);
  const gpu = numberOption(v.gpu, 'gpu', true);
  if (gpu !== undefined && gpu < 0) throw new UsageError(`--gpu must be a GPU index (0, 1, …), got ${gpu}`);
  const backend = v.backend as (typeof BACKENDS)[number] | undefined;
  if (backend !== undefined && !BACKENDS.includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${String(backend)}"`);
  const lock = numberOption(v['lock-seconds'], 'lock-seconds');
  if (lock !== undefined && !(lock >= 1)) throw new UsageError(`--lock-seconds must be at least 1, got ${lock}`);
  const bar = new ProgressLine(ctx.io);
  const counts = { finished: 0, failed: 0 };
  const stamp = (): string => new Date().toISOString().slice(11, 19);
  const onEvent = (e: FarmWorkerEvent): void => {
    if (e.type === 'finished') counts.finished++;
    if (e.type === 'failed') counts.failed++;
    if (ctx.json) {
      if (e.type !== 'progress') ctx.io.stderr(`${JSON.stringify({ at: new Date().toISOString(), ...e })}\n`);
      return;
    }
    if (e.type === 'progress') {
      if (e.total > 0) bar.update(e.done / e.total, `job ${e.id}${e.message ? ` · ${e.message}` : ''}`, false);
      return;
    }
    const line =
      e.type === 'ready'
        ? `worker ${e.worker} is taking jobs from "${e.queue}" (shared folder ${e.shared}); stop with Ctrl-C`
        : e.type === 'started'
          ? `job ${e.id} "${e.title}" started (attempt ${e.attempt}${e.resume ? ', resuming from its last chunk checkpoint' : ''})`
          : e.type === 'finished'
            ? `job ${e.id} finished: ${e.result.output} (${e.result.frames} frames, ${e.result.seconds.toFixed(1)} s${e.result.resumedChunks ? `, ${e.result.resumedChunks} chunk(s) resumed` : ''})`
            : e.type === 'stopped'
              ? `job ${e.id} ${e.reason === 'shutdown' ? 'stopped at its checkpoint and went back to the queue' : e.reason}`
              : e.type === 'failed'
                ? `job ${e.id} failed: ${e.message}${e.willRetry ? ' (it will be tried again)' : ''}`
                : `warning: ${e.message}`;
    bar.message(`${stamp()} ${line}`);
  };
  const worker = await FarmWorker.start({
    connection,
    shared,
    ...(typeof v.name === 'string' && v.name.trim() ? { name: v.name.trim() } : {}),
    ...(gpu !== undefined ? { gpu } : {}),
    ...(backend ? { backend } : {}),
    ...(lock !== undefined ? { lockDurationMs: lock * 1000, stalledIntervalMs: Math.max(500, (lock * 1000) / 2) } : {}),
    onEvent,
  });
  // Runs until Ctrl-C (the CLI's signal) or SIGTERM (service managers).
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  if (!ctx.json) bar.message(`${stamp()} stopping: a running job goes back to the queue at its next checkpoint…`);
  await worker.close();
  if (ctx.json) ctx.io.stdout(JSON.stringify({ ok: true, worker: worker.name, ...counts }));
  else ctx.io.stdout(`worker ${worker.name} stopped (${counts.finished} job(s) finished, ${counts.failed} failed attempt(s))`);
  // With Redis gone, a Redis client can keep retrying after close(); the worker has said its last
  // word, so it exits (this timer does not hold the process when nothing else does).
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
