// `npm run gpu-check -- [--local] [--out DIR] [--work DIR] [--budget SECONDS] [--json]`
// `npm run gpu-check -- --pack OUTDIR`
//
// Measures the product's model on this machine's GPU: which backends open, seconds per DiT step at
// full size with and without the speech modules, VAE decode time, peak GPU memory, projected frames
// per second, float16 against float32, and a LoRA SFT step where the trainer exists. `--local` runs
// the same stages at reduced sizes on the CPU (CI). Each stage runs in a child process with its own
// time budget and is killed when it overruns; the whole check stops within its total budget (9
// minutes at full size) and always writes gpu-check.json and gpu-check.txt.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ort } from '../../engine/runtime/ort.js';
import type { Backend } from '../../engine/runtime/session.js';
import { GpuMemoryPoller } from './gpu-memory.js';
import type { CheckMode, StageName } from './plan.js';
import { STAGES, planFor } from './plan.js';
import type { Report, StageRecord } from './report.js';
import { REPORT_SCHEMA, deriveResults, parsePlacement, planSizes, summarize } from './report.js';
import { ATTENTION_FORMS, runStage } from './stages.js';
import type { AttentionImpl } from '../../engine/graph/ops/attention.js';

const USAGE = `usage: npm run gpu-check -- [--local] [--out DIR] [--work DIR] [--budget SECONDS] [--json]
       npm run gpu-check -- --pack OUTDIR
  --local          reduced sizes on the CPU (about a minute); without it, full size on the best GPU backend
  --out DIR        where gpu-check.json and gpu-check.txt go (default out/gpu-check or out/gpu-check-local)
  --work DIR       weights and engines (default <tmp>/refree-gpu-check/<mode>; reused when they match)
  --budget S       total seconds before the check stops itself (default 530 full size, 150 local)
  --json           print the report as one JSON object on stdout (progress as JSON lines on stderr)
  --backend NAME   measure on cuda, webgpu or cpu instead of the first GPU backend that works
                   (a software WebGPU adapter is used only when asked for this way)
  --only A,B       run only these stages (${STAGES.join(', ')}) and what they need; the others are reported as skipped
  --stage-budget NAME=S[,NAME=S]  seconds for a stage instead of its default budget
  --pack OUTDIR    build the self-contained pack for a machine without Node (at most 64 MiB)`;

class UsageError extends Error {}

interface Args {
  mode: CheckMode;
  out: string | null;
  work: string | null;
  budget: number | null;
  json: boolean;
  pack: string | null;
  stage: StageName | null;
  backend: Backend;
  /** The user named the backend (parent); otherwise the probe picks it. */
  backendGiven: boolean;
  deadline: number;
  result: string | null;
  weights: string[] | undefined;
  seed: number | undefined;
  only: StageName[] | null;
  /** Child: attention forms that ran, best first; or the one form the attention stage tries. */
  attention: AttentionImpl[] | undefined;
  form: AttentionImpl | undefined;
  stageBudgets: Partial<Record<StageName, number>>;
}

function stageName(s: string, flag: string): StageName {
  if (!(STAGES as readonly string[]).includes(s)) throw new UsageError(`${flag}: unknown stage ${s} (stages: ${STAGES.join(', ')})`);
  return s as StageName;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { mode: 'gpu', out: null, work: null, budget: null, json: false, pack: null, stage: null, backend: 'cpu', backendGiven: false, deadline: 0, result: null, weights: undefined, seed: undefined, only: null, stageBudgets: {}, attention: undefined, form: undefined };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    switch (f) {
      case '--local':
        a.mode = 'local';
        break;
      case '--json':
        a.json = true;
        break;
      case '--out':
        a.out = value(i++, f);
        break;
      case '--work':
        a.work = value(i++, f);
        break;
      case '--pack':
        a.pack = value(i++, f);
        break;
      case '--budget': {
        const n = Number(value(i++, f));
        if (!(n >= 10)) throw new UsageError(`--budget must be a number of seconds ≥ 10, got ${argv[i]}`);
        a.budget = n;
        break;
      }
      case '--only':
        a.only = value(i++, f).split(',').map((s) => stageName(s.trim(), f));
        break;
      case '--stage-budget':
        for (const part of value(i++, f).split(',')) {
          const [k, v] = part.split('=');
          const n = Number(v);
          if (!(n > 0)) throw new UsageError(`--stage-budget: ${part} must be NAME=SECONDS with SECONDS > 0`);
          a.stageBudgets[stageName((k ?? '').trim(), f)] = n;
        }
        break;
      case '--seed':
        a.seed = Number(value(i++, f));
        break;
      // Child-process arguments (set by the parent, not for users).
      case '--stage':
        a.stage = stageName(value(i++, f), f);
        break;
      case '--backend': {
        const b = value(i++, f);
        if (!['cuda', 'webgpu', 'cpu'].includes(b)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got ${b}`);
        a.backend = b as Backend;
        a.backendGiven = true;
        break;
      }
      case '--deadline':
        a.deadline = Number(value(i++, f));
        break;
      case '--result':
        a.result = value(i++, f);
        break;
      case '--attention':
        a.attention = value(i++, f).split(',') as AttentionImpl[];
        break;
      case '--form':
        a.form = value(i++, f) as AttentionImpl;
        break;
      case '--weights':
        a.weights = value(i++, f).split(',');
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${f}`);
    }
  }
  return a;
}

// ------------------------------------------------------------------------------------------------
// child: one stage

async function child(a: Args): Promise<void> {
  const plan = planFor(a.mode, a.seed);
  const log = (msg: string): void => void process.stderr.write(`  [${a.stage}] ${msg}\n`);
  // Locally ORT's warnings (CPU constant folding) are noise; on the GPU machine they say which nodes
  // fell back to the CPU, which is worth reading.
  if (a.mode === 'local') ort().env.logLevel = 'error';
  // Written atomically: the parent may read it at any moment after stopping this process.
  const write = (data: Record<string, unknown>): void => {
    writeFileSync(`${a.result!}.tmp`, JSON.stringify(data));
    renameSync(`${a.result!}.tmp`, a.result!);
  };
  const partial = (data: Record<string, unknown>): void => write({ partial: true, ...data });
  write(await runStage(a.stage!, { plan, work: a.work!, backend: a.backend, deadline: a.deadline, log, partial, attention: a.attention, form: a.form }, { weights: a.weights }));
}

// ------------------------------------------------------------------------------------------------
// parent: every stage in order, each in a child process with a deadline

interface ChildOutcome {
  status: 'ok' | 'failed' | 'timeout';
  data: Record<string, unknown> | null;
  reason: string | null;
  seconds: number;
}

/** Runs one stage process; its output lines go to `progress`, or into `capture` when given (verbose ORT logs). */
function runChild(args: string[], timeoutMs: number, resultFile: string, progress: (line: string) => void, capture?: string[]): Promise<ChildOutcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let timedOut = false;
    const keep = (s: string): void => {
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) {
        if (!line.trim()) continue;
        if (capture) capture.push(line);
        else progress(line);
      }
    };
    c.stdout.setEncoding('utf8').on('data', keep);
    c.stderr.setEncoding('utf8').on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      c.kill('SIGKILL');
    }, timeoutMs);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (timedOut) {
        // What the stage measured before it was stopped (session open time, first run), if anything.
        let data: Record<string, unknown> | null = null;
        try {
          data = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
        } catch {
          /* nothing measured yet */
        }
        return resolve({ status: 'timeout', data, reason: `ran out of its ${Number((timeoutMs / 1000).toFixed(1))} s and was stopped`, seconds });
      }
      if (code === 0) {
        try {
          const data = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
          if (data.partial) return resolve({ status: 'failed', data, reason: 'the stage ended without its final result', seconds });
          return resolve({ status: 'ok', data, reason: null, seconds });
        } catch (e) {
          return resolve({ status: 'failed', data: null, reason: `the stage wrote no readable result (${(e as Error).message})`, seconds });
        }
      }
      const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('['));
      const err = lines.filter((l) => /error|Error|failed|abort|terminate|Killed/.test(l)).pop() ?? lines.pop() ?? '';
      let partial: Record<string, unknown> | null = null;
      try {
        partial = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
      } catch {
        /* nothing measured */
      }
      resolve({ status: 'failed', data: partial, reason: `${signal ? `killed by ${signal}` : `exit code ${code}`}${err ? `: ${err.replace(/^\s*\[[^\]]+\]\s*/, '')}` : ''}`, seconds });
    });
  });
}

const HEAVY: readonly StageName[] = ['dit', 'vae', 'ditSpeech', 'loraSft'];
const NEEDS_WEIGHTS: readonly StageName[] = ['dit', 'vae', 'precision', 'ditSpeech', 'loraSft'];
const USES_ATTENTION: readonly StageName[] = ['dit', 'precision', 'ditSpeech'];

async function parent(a: Args): Promise<number> {
  const plan = planFor(a.mode, a.seed);
  const total = a.budget ?? plan.totalSeconds;
  const start = Date.now();
  const deadline = start + total * 1000;
  const out = path.resolve(a.out ?? path.join('out', a.mode === 'gpu' ? 'gpu-check' : 'gpu-check-local'));
  const work = path.resolve(a.work ?? path.join(os.tmpdir(), 'refree-gpu-check', a.mode));
  mkdirSync(out, { recursive: true });
  mkdirSync(work, { recursive: true });
  const tmp = path.join(work, `results-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const progress = (line: string): void => {
    process.stderr.write(a.json ? `${JSON.stringify({ progress: line.trim() })}\n` : `${line}\n`);
  };
  progress(`GPU check (${a.mode === 'gpu' ? 'full size' : 'local, reduced sizes'}), ${total} s budget; report in ${out}`);

  const stages: Partial<Record<StageName, StageRecord>> = {};
  const deselected = new Set<StageName>();
  let working: AttentionImpl[] = [];
  let backend: Backend = 'cpu';
  let gpuUsable = a.mode === 'local';
  for (const name of STAGES) {
    const budget = a.stageBudgets[name] ?? plan.budgets[name];
    const record = (r: Partial<StageRecord> & Pick<StageRecord, 'status'>): void => {
      stages[name] = { seconds: 0, budgetSeconds: budget, reason: null, gpuMemory: null, data: null, ...r };
      progress(`${name}: ${r.status}${r.seconds !== undefined ? ` in ${r.seconds.toFixed(1)} s` : ''}${r.reason ? ` — ${r.reason}` : ''}`);
    };
    // The probe always runs (it picks the backend), and the weights whenever a selected stage needs them.
    const needed = name === 'probe' || (name === 'attention' && !!a.only?.some((x) => USES_ATTENTION.includes(x))) || (name === 'weights' && !!a.only?.some((x) => NEEDS_WEIGHTS.includes(x)));
    if (a.only && !a.only.includes(name) && !needed) {
      deselected.add(name);
      record({ status: 'skipped', reason: 'not selected (--only)' });
      continue;
    }
    if (!gpuUsable && HEAVY.includes(name)) {
      record({ status: 'skipped', reason: a.backendGiven ? `${a.backend} did not open on this machine (see backends)` : 'no GPU backend opened on this machine (see backends), so the full-size model was not run' });
      continue;
    }
    if (NEEDS_WEIGHTS.includes(name) && stages.weights?.status !== 'ok') {
      record({ status: 'skipped', reason: 'its weights were not written (see the weights stage)' });
      continue;
    }
    const left = (deadline - Date.now()) / 1000 - 3;
    const minimum = a.mode === 'gpu' ? 15 : 5;
    if (left < minimum) {
      record({ status: 'skipped', reason: `no time left of the ${total} s budget` });
      continue;
    }
    const timeout = Math.min(budget, left);
    if (name === 'attention') {
      // Each form in its own process with a third of the budget: one that hangs costs only its share.
      const t0 = performance.now();
      const forms: Record<string, unknown> = {};
      for (const form of ATTENTION_FORMS) {
        const file = path.join(tmp, `attention-${form}.json`);
        const share = Math.min(timeout / ATTENTION_FORMS.length, (deadline - Date.now()) / 1000 - 3);
        if (share < 2) {
          forms[form] = { status: 'skipped', reason: 'no time left' };
          continue;
        }
        const args = ['--stage', name, '--form', form, '--work', work, '--backend', backend, '--deadline', String(Date.now() + share * 1000), '--result', file];
        if (a.mode === 'local') args.push('--local');
        const r = await runChild(args, share * 1000, file, progress);
        forms[form] = { status: r.status, seconds: r.seconds, reason: r.reason, ...(r.data ?? {}) };
        progress(`attention ${form}: ${r.status}${r.reason ? ` — ${r.reason}` : ''}`);
      }
      working = ATTENTION_FORMS.filter((f) => (forms[f] as { status: string }).status === 'ok');
      // Which nodes a GPU backend leaves to the CPU, by name, from ORT's verbose placement log of small
      // graphs with the model's ops (one DiT block, the speech modules, a VAE decode chunk).
      let cpuPlacement: Record<string, string[]> | null = null;
      const left2 = (deadline - Date.now()) / 1000 - 3;
      if (backend !== 'cpu' && left2 > 5) {
        const file = path.join(tmp, 'attention-placement.json');
        const lines: string[] = [];
        const args = ['--stage', name, '--form', 'placement', '--work', work, '--backend', backend, '--deadline', String(Date.now() + 25_000), '--result', file];
        if (a.mode === 'local') args.push('--local');
        if (working.length) args.push('--attention', working.join(','));
        const r = await runChild(args, Math.min(30, left2) * 1000, file, progress, lines);
        cpuPlacement = r.status === 'ok' ? parsePlacement(lines) : { error: [r.reason ?? r.status] };
        progress(`placement: ${Object.entries(cpuPlacement).map(([k, v]) => `${k} ${v.length ? `${v.length} node(s) on the CPU` : 'all on the GPU'}`).join(', ')}`);
      }
      record({
        status: working.length ? 'ok' : 'failed',
        seconds: (performance.now() - t0) / 1000,
        reason: working.length ? null : 'no attention form ran on this backend (see data)',
        data: { backend, forms, working, cpuPlacement },
      });
      continue;
    }
    const resultFile = path.join(tmp, `${name}.json`);
    rmSync(resultFile, { force: true });
    const args = ['--stage', name, '--work', work, '--backend', backend, '--deadline', String(Date.now() + (timeout - 2) * 1000), '--result', resultFile];
    if (a.mode === 'local') args.push('--local');
    if (a.seed !== undefined) args.push('--seed', String(a.seed));
    if (name === 'weights' && !gpuUsable) args.push('--weights', 'precisionDit,precisionVae');
    if (working.length) args.push('--attention', working.join(','));
    const poller = name === 'probe' || name === 'weights' ? null : new GpuMemoryPoller();
    poller?.start();
    progress(`${name}: running (budget ${Math.round(timeout)} s)`);
    const r = await runChild(args, timeout * 1000, resultFile, progress);
    const gpuMemory = poller?.stop() ?? null;
    if (r.status === 'ok' && name === 'loraSft' && r.data?.available === false) {
      record({ status: 'not-available', seconds: r.seconds, reason: String(r.data.reason), data: r.data, gpuMemory });
      continue;
    }
    record({ status: r.status, seconds: r.seconds, reason: r.reason, data: r.data, gpuMemory });
    if (name === 'probe' && r.status === 'ok') {
      backend = r.data!.chosen as Backend;
      gpuUsable = a.mode === 'local' || backend !== 'cpu';
      if (a.backendGiven) {
        const asked = (r.data!.backends as { backend: Backend; works: boolean }[]).find((b) => b.backend === a.backend);
        gpuUsable = asked?.works === true;
        backend = gpuUsable ? a.backend : 'cpu';
        r.data!.chosen = backend;
        if (!gpuUsable) progress(`${a.backend} does not open here (see backends); only the stages that need no model run`);
      }
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  const probe = stages.probe?.status === 'ok' ? stages.probe.data! : null;
  const all = stages as Record<StageName, StageRecord>;
  const body: Omit<Report, 'summary'> = {
    schema: REPORT_SCHEMA,
    mode: a.mode,
    ok: STAGES.every((s) => all[s].status === 'ok' || all[s].status === 'not-available' || deselected.has(s)),
    startedAt: new Date(start).toISOString(),
    seconds: (Date.now() - start) / 1000,
    budgetSeconds: total,
    sizes: planSizes(plan),
    machine: probe ? Object.fromEntries(Object.entries(probe).filter(([k]) => k !== 'backends')) : null,
    backends: (probe?.backends as unknown[]) ?? [],
    results: deriveResults(plan, stages),
    stages: all,
  };
  const report: Report = { ...body, summary: summarize(body) };
  writeFileSync(path.join(out, 'gpu-check.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(out, 'gpu-check.txt'), `${report.summary.join('\n')}\n`);
  if (a.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${report.summary.join('\n')}\n\nwritten: ${path.join(out, 'gpu-check.json')} and gpu-check.txt\n`);
  return report.ok ? 0 : 2;
}

async function main(): Promise<void> {
  let a: Args;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`gpu-check: ${e.message}\n${USAGE}\n`);
    process.exit(64);
  }
  if (a.stage) {
    await child(a);
    return;
  }
  if (a.pack) {
    // Packing needs the source tree and esbuild; it is not part of the packed bundle itself.
    const packModule = pathToFileURL(path.join(path.dirname(process.argv[1]!), 'pack.ts')).href;
    let pack: (outDir: string, log: (s: string) => void) => Promise<{ bytes: number }>;
    try {
      ({ pack } = (await import(packModule)) as { pack: typeof pack });
    } catch (e) {
      process.stderr.write(`gpu-check: --pack runs from the source tree (npm run gpu-check -- --pack OUTDIR); ${(e as Error).message.split('\n')[0]}\n`);
      process.exit(1);
    }
    const r = await pack(path.resolve(a.pack), (s) => void process.stderr.write(`${s}\n`));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  process.exitCode = await parent(a);
}

await main();
