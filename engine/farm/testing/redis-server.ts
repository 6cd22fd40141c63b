// A real redis-server for tests and benchmarks: started on a free loopback port in a temporary folder,
// with append-only persistence so a restart keeps every job, and stopped (and its folder removed) at
// the end. Tests call `redisSkipReason()` first and skip, with that sentence, where the binary is not
// installed (Debian: apt-get install redis-server).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

const BINARY = process.env.REFREE_REDIS_SERVER ?? 'redis-server';

/** Null when redis-server runs here; else why the tests that need it are skipped. */
export function redisSkipReason(): string | null {
  const r = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${BINARY} is not installed (Debian: apt-get install redis-server), so the render-farm tests that need a real Redis are skipped`;
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedisOptions {
  /** requirepass: clients must authenticate with it. */
  password?: string;
}

export class TestRedis {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly opts: TestRedisOptions,
  ) {}

  static async start(opts: TestRedisOptions = {}): Promise<TestRedis> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-redis-'));
    const r = new TestRedis(await freePort(), dir, opts);
    await r.launch();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    if (this.opts.password) args.push('--requirepass', this.opts.password);
    const child = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start (code ${child.exitCode}): ${err.trim()}`);
      const c = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, ...(this.opts.password ? { password: this.opts.password } : {}) });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.ping();
        c.disconnect();
        return;
      } catch {
        c.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port} within 10 s: ${err.trim()}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }

  /** Stops the server (SIGTERM: it flushes its append-only file) and waits for it to exit. */
  async stopServer(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGTERM');
    await exited;
  }

  /** Stops and starts it again on the same port and folder: what was persisted comes back. */
  async restart(): Promise<void> {
    await this.stopServer();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.stopServer();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
