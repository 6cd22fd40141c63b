// `npm run serve` end to end: the script starts, prints its tokenised loopback address, answers
// /api/health only with the token, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SCRIPT = fileURLToPath(new URL('./serve.ts', import.meta.url));

test('serve prints http://127.0.0.1:N/?token=…, requires the token, and exits on SIGTERM', { timeout: 60_000 }, async () => {
  const data = await mkdtemp(path.join(tmpdir(), 'refree-serve-'));
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--no-open', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /ReFree Studio: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited (${code}) before printing its address: ${out}`)));
    });
    const u = new URL(url);
    const token = u.searchParams.get('token')!;
    assert.equal((await fetch(`${u.origin}/api/health`)).status, 401);
    const ok = await fetch(`${u.origin}/api/health?token=${token}`);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { ok: boolean }).ok, true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    await rm(data, { recursive: true, force: true });
  }
});
