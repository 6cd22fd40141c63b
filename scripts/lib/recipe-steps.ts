// Running a training recipe as a sequence of `refree` child commands (scripts/train-mini.ts,
// scripts/ablations.ts): each prints its one reproducing command, logs to <logs>/<name>.log, and a
// time budget or Ctrl-C sends SIGINT so a training stage saves a checkpoint and the recipe stops
// resumably.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A stage stopped by its time budget or by Ctrl-C: the recipe stops and can be run again. */
export class Paused extends Error {}

export const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null)) !== null;

/** Clips (name.mp4 + name.json pairs) in a synthetic-clip folder. */
export async function clipCount(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const set = new Set(names);
  return names.filter((n) => n.endsWith('.json') && set.has(`${n.slice(0, -5)}.mp4`)).length;
}

/** Reads `--name value` from argv. */
export function flagReader(args: readonly string[]): (name: string) => string | undefined {
  return (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
}

export interface StepRunner {
  /** Runs `node argv…` (shown as `shown`); returns its stdout. */
  step(name: string, shown: string[], argv: string[], allowFail?: boolean): Promise<string>;
  /** Runs `refree rest…`. */
  cli(name: string, rest: string[], allowFail?: boolean): Promise<string>;
}

export function stepRunner(opts: { logs: string; budgetS: number }): StepRunner {
  async function step(name: string, shown: string[], argv: string[], allowFail = false): Promise<string> {
    const quote = (a: string): string => (/^[\w./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
    process.stdout.write(`\n[${name}] ${shown.map(quote).join(' ')}\n`);
    await mkdir(opts.logs, { recursive: true });
    const logFile = path.join(opts.logs, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      log.write(d);
    });
    child.stderr.on('data', (d: Buffer) => log.write(d));
    let overBudget = false;
    const timer = Number.isFinite(opts.budgetS)
      ? setTimeout(() => {
          overBudget = true;
          child.kill('SIGINT');
        }, opts.budgetS * 1000)
      : null;
    const onInt = (): void => void child.kill('SIGINT');
    process.on('SIGINT', onInt);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    process.off('SIGINT', onInt);
    if (timer) clearTimeout(timer);
    log.end();
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    if (overBudget || code === 130) throw new Paused(`[${name}] stopped after ${secs} s (${overBudget ? 'its time budget' : 'interrupted'}); run the same command again to continue (a training stage resumes from its last checkpoint; log: ${logFile})`);
    if (code !== 0 && allowFail) {
      process.stdout.write(`[${name}] failed (exit ${code}); recorded\n`);
      return out;
    }
    if (code !== 0) throw new Error(`[${name}] failed (exit ${code}) after ${secs} s; see ${logFile}:\n${out.slice(-2000)}`);
    process.stdout.write(`[${name}] done in ${secs} s\n`);
    return out;
  }
  const cli = (name: string, rest: string[], allowFail = false): Promise<string> => step(name, ['refree', ...rest], [path.join(ROOT, 'bin', 'refree.mjs'), ...rest], allowFail);
  return { step, cli };
}
