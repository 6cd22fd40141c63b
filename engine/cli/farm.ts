// `refree farm worker | submit | list | test | pause | resume | cancel | retry`: the render farm from
// the command line (engine/farm). Every subcommand tests the connection to Redis first and stops with
// one sentence when Redis cannot be reached or refuses the password, before anything is queued or run.
import { FarmConnectionError, testConnection } from '../farm/connection.js';
import type { FarmJobView } from '../farm/job-view.js';
import { FarmError, FarmQueue } from '../farm/queue.js';
import { FarmPathError } from '../farm/shared-folder.js';
import { FarmPayloadError } from '../farm/payload.js';
import type { Command, CommandContext } from './command.js';
import { UsageError } from './command.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom } from './farm-options.js';
import { farmSubmitCommand } from './farm-submit.js';
import { farmWorkerCommand } from './farm-worker.js';
import { json, table } from './output.js';

const HELP = `Usage: refree farm worker --redis <url> --shared <dir> [--gpu N] [--name NAME] [--json]
       refree farm submit --redis <url> --shared <dir> --portrait <image> --audio <speech> --out <video.mp4> [options] [--json]
       refree farm list --redis <url> [--json]
       refree farm pause|resume|cancel|retry <job> --redis <url> [--json]
       refree farm test --redis <url> [--json]

Renders exports on several machines: workers (one per GPU) take exports from a queue in Redis and run
them with the same engine as the studio. Inputs and outputs live in a folder every machine mounts
(--shared); each machine gives the place where it mounts it. A worker that dies mid-job loses nothing:
another worker resumes the job from its last finished chunk. A job that fails three times is kept as
failed with its reason (\`refree farm retry <job>\` runs it again).

Connection:
${CONNECTION_HELP}

worker:
  --gpu <n>          the GPU this worker uses (start one worker per GPU)
  --name <name>      shown beside the jobs it runs (default: host name and GPU)
  --backend <b>      cuda | webgpu | cpu (default: the engine's choice)
  --lock-seconds <s> how long a silent worker keeps its job before another takes it over (default 30)

submit (every path must be inside the shared folder):
  --portrait <file> --audio <file> --out <video.mp4>
  --start <s> --end <s>   the part of the speech to use
  --steps <n> --seed <n> --guidance <g> --fps <n> --size <px> --sampler euler|unipc
  --model <dir>      a model package folder in the shared folder (default: the built-in demo model)
  --no-label         leave the visible "AI-generated" label off (the invisible watermark stays)
  --title <text>     the name shown on the queue screen
  --priority <n>     1 runs first (default: after every waiting job)
  --wait             follow the job until it is done, failed or cancelled

Exit code: 0 success, 1 failure (Redis unreachable, a path outside the shared folder, a failed job), 2 bad usage.`;

const CONTROLS = ['pause', 'resume', 'cancel', 'retry'] as const;

function viewLine(j: FarmJobView): string[] {
  const pct = j.progress && j.progress.total > 0 ? `${Math.floor((100 * j.progress.done) / j.progress.total)}%` : '';
  return [j.id, j.state, pct, j.worker ?? '-', j.title, j.state === 'failed' ? (j.error ?? '') : ''];
}

async function withQueue<T>(ctx: CommandContext, fn: (q: FarmQueue) => Promise<T>): Promise<T> {
  const q = await FarmQueue.open(connectionFrom(ctx.values));
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

export const farm: Command = {
  name: 'farm',
  summary: 'render exports on several machines (workers pulling from a Redis queue)',
  help: HELP,
  options: {
    ...CONNECTION_OPTIONS,
    gpu: { type: 'string' },
    name: { type: 'string' },
    backend: { type: 'string' },
    'lock-seconds': { type: 'string' },
    portrait: { type: 'string' },
    audio: { type: 'string' },
    out: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    guidance: { type: 'string' },
    fps: { type: 'string' },
    size: { type: 'string' },
    sampler: { type: 'string' },
    model: { type: 'string' },
    'no-label': { type: 'boolean' },
    label: { type: 'string' },
    title: { type: 'string' },
    priority: { type: 'string' },
    wait: { type: 'boolean' },
  },
  async run(ctx) {
    const [sub, ...rest] = ctx.positionals;
    try {
      if (sub === 'worker') return await farmWorkerCommand(ctx);
      if (sub === 'submit') return await farmSubmitCommand(ctx);
      if (sub === 'test') {
        const r = await testConnection(connectionFrom(ctx.values));
        ctx.io.stdout(ctx.json ? JSON.stringify({ ok: true, ...r }) : `Redis ${r.version} answers at ${r.address} (ping ${r.pingMs} ms)`);
        return 0;
      }
      if (sub === 'list') {
        const jobs = await withQueue(ctx, (q) => q.list());
        ctx.io.stdout(ctx.json ? JSON.stringify({ ok: true, jobs }) : jobs.length ? table([['JOB', 'STATE', 'DONE', 'WORKER', 'TITLE', 'REASON'], ...jobs.map(viewLine)]) : 'the farm queue is empty');
        return 0;
      }
      if ((CONTROLS as readonly string[]).includes(sub ?? '')) {
        const id = rest[0];
        if (!id) throw new UsageError(`which job? usage: refree farm ${sub} <job> --redis <url>`);
        const j = await withQueue(ctx, (q) => q[sub as (typeof CONTROLS)[number]](id));
        ctx.io.stdout(ctx.json ? JSON.stringify({ ok: true, job: j }) : `farm job ${j.id} is ${j.state}`);
        return 0;
      }
      throw new UsageError(sub ? `unknown farm subcommand "${sub}" (worker, submit, list, test, pause, resume, cancel, retry)` : 'which subcommand? worker, submit, list, test, pause, resume, cancel or retry');
    } catch (e) {
      // The farm's own errors are sentences for people: print them as they are, exit code 1.
      if (e instanceof FarmConnectionError || e instanceof FarmPathError || e instanceof FarmPayloadError || e instanceof FarmError) {
        if (ctx.json) ctx.io.stdout(json({ ok: false, error: e.message }));
        else ctx.io.stderr(`refree farm: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
