// Bad input to the render farm, each refused with a sentence and nothing run: a path outside the shared
// folder (at submit, and in a payload a worker takes), Redis that is not there, and Redis with a
// password when the password is wrong or missing. The Redis cases use a real redis-server (skipped,
// with the reason, where it is not installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { GenerateJobParams } from '../jobs/studio-jobs.js';
import { FarmConnectionError, redisOptions, testConnection } from './connection.js';
import { FARM_PAYLOAD_FORMAT } from './payload.js';
import type { FarmPayload } from './payload.js';
import { FARM_PREFIX, FarmQueue } from './queue.js';
import { FarmPathError, fromSharedPath, sharedRoot, toSharedPath } from './shared-folder.js';
import { TestRedis, freePort, redisSkipReason } from './testing/redis-server.js';
import { FarmWorker } from './worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'refree.mjs');
const skip = redisSkipReason();
/** assert.rejects/throws check on the message alone (a RegExp would also see the error's name). */
const says = (re: RegExp) => (e: Error): boolean => re.test(e.message);

let tmp = '';
let shared = '';
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-farm-inputs-'));
  shared = path.join(tmp, 'shared');
  mkdirSync(path.join(shared, 'out'), { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'avatar.png'), path.join(shared, 'avatar.png'));
  copyFileSync(path.join(ROOT, 'assets', 'demo', 'speech.wav'), path.join(shared, 'speech.wav'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function params(over: Partial<GenerateJobParams> = {}): GenerateJobParams {
  return {
    mode: 'export',
    portrait: { path: path.join(shared, 'avatar.png'), crop: null },
    audio: { path: path.join(shared, 'speech.wav'), trim: { start: 0, end: 1 } },
    settings: { model: 'refree-mini', steps: 2, seed: 1, guidance: 4.5, width: 256, height: 256, fps: 15, sampler: 'unipc' },
    seconds: null,
    output: path.join(shared, 'out', 'a.mp4'),
    watermark: { visible: true, text: 'AI-generated · ReFree', position: 'bottom-right' },
    modelPath: null,
    ...over,
  };
}

describe('paths outside the shared folder', () => {
  test('submit side: the sentence names the path and the shared folder', () => {
    const root = sharedRoot(shared);
    const outside = path.join(tmp, 'elsewhere.mp4');
    assert.throws(
      () => toSharedPath(root, outside, 'The output'),
      (e: Error) => e instanceof FarmPathError && e.message.includes(outside) && e.message.includes(root) && /outside the shared folder/.test(e.message),
    );
    assert.equal(toSharedPath(root, path.join(shared, 'out', 'a.mp4'), 'The output'), 'out/a.mp4');
  });

  test('a symbolic link inside the folder that points out of it is outside', () => {
    const root = sharedRoot(shared);
    const link = path.join(shared, 'escape');
    symlinkSync(tmp, link);
    try {
      assert.throws(() => toSharedPath(root, path.join(link, 'x.mp4'), 'The output'), /outside the shared folder/);
      assert.throws(() => fromSharedPath(root, 'escape/x.mp4', 'The output'), /outside the shared folder/);
    } finally {
      rmSync(link);
    }
  });

  test('worker side: "..", absolute and drive paths in a payload are refused', () => {
    const root = sharedRoot(shared);
    assert.throws(() => fromSharedPath(root, '../../etc/passwd', 'The portrait'), (e: Error) => e instanceof FarmPathError && e.message.includes('../../etc/passwd') && e.message.includes(root));
    assert.throws(() => fromSharedPath(root, '/etc/passwd', 'The portrait'), /absolute path/);
    assert.throws(() => fromSharedPath(root, 'C:\\Windows\\x.png', 'The portrait'), /absolute path/);
    assert.equal(fromSharedPath(root, 'out/a.mp4', 'The output'), path.join(root, 'out', 'a.mp4'));
  });

  test('a missing shared folder is named', () => {
    assert.throws(() => sharedRoot(path.join(tmp, 'not-mounted')), /The shared folder .*not-mounted does not exist on this machine/);
  });

  test('refree farm submit with the portrait outside: exit 1, one sentence, before Redis is asked', () => {
    // The Redis URL points nowhere: the path check must come first and name the portrait.
    const r = spawnSync(process.execPath, [BIN, 'farm', 'submit', '--redis', 'redis://127.0.0.1:1', '--shared', shared, '--portrait', path.join(ROOT, 'assets', 'demo', 'avatar.png'), '--audio', path.join(shared, 'speech.wav'), '--out', path.join(shared, 'out', 'b.mp4'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; error: string };
    assert.equal(out.ok, false);
    assert.match(out.error, /^The portrait .*assets\/demo\/avatar\.png is outside the shared folder /);
  });
});

describe('Redis', { skip: skip ?? false }, () => {
  let redis: TestRedis;
  let locked: TestRedis;
  before(async () => {
    redis = await TestRedis.start();
    locked = await TestRedis.start({ password: 'right horse battery' });
  });
  after(async () => {
    await redis?.stop();
    await locked?.stop();
  });

  test('unreachable: "Nothing answers at …", from the test, the queue and the worker', async () => {
    const port = await freePort();
    const conn = { url: `redis://127.0.0.1:${port}` };
    const sentence = new RegExp(`^Nothing answers at redis://127\\.0\\.0\\.1:${port} \\(connection refused\\): start Redis there, or correct the farm's Redis URL\\.$`);
    await assert.rejects(testConnection(conn), (e: Error) => e instanceof FarmConnectionError && sentence.test(e.message));
    await assert.rejects(FarmQueue.open(conn), says(sentence));
    await assert.rejects(FarmWorker.start({ connection: conn, shared }), says(sentence));
  });

  test('refree farm worker with Redis unreachable: exit 1 with the sentence, no engine started', () => {
    const r = spawnSync(process.execPath, [BIN, 'farm', 'worker', '--redis', 'redis://127.0.0.1:1', '--shared', shared], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refree farm: Nothing answers at redis:\/\/127\.0\.0\.1:1 \(connection refused\)/);
    assert.doesNotMatch(r.stderr, /taking jobs/);
  });

  test('wrong or missing password: each its own sentence, and nothing is queued', async () => {
    await assert.rejects(testConnection({ url: locked.url, password: 'wrong' }), says(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${locked.port} refused the password`)));
    await assert.rejects(testConnection({ url: locked.url }), /requires a password and none was given/);
    // The password in the URL works too, and a wrong one there is the same sentence.
    await assert.rejects(testConnection({ url: `redis://:wrong@127.0.0.1:${locked.port}` }), /refused the password/);
    await assert.rejects(FarmQueue.open({ url: locked.url, password: 'wrong' }), /refused the password/);
    const r = spawnSync(process.execPath, [BIN, 'farm', 'submit', '--redis', locked.url, '--password', 'wrong', '--shared', shared, '--portrait', path.join(shared, 'avatar.png'), '--audio', path.join(shared, 'speech.wav'), '--out', path.join(shared, 'out', 'c.mp4'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match((JSON.parse(r.stdout) as { error: string }).error, /refused the password/);
    const ok = await testConnection({ url: locked.url, password: 'right horse battery' });
    assert.match(ok.version, /^\d+\.\d+/);
    const q = await FarmQueue.open({ url: locked.url, password: 'right horse battery' });
    try {
      assert.deepEqual(await q.list(), [], 'the refused submit queued nothing');
    } finally {
      await q.close();
    }
  });

  test('a payload naming a path outside the shared folder fails at once on the worker: no retry, no engine, no file', async () => {
    const queueName = `inputs-${Date.now()}`;
    const raw = new Queue(queueName, { connection: redisOptions({ url: redis.url }), prefix: FARM_PREFIX });
    const payload: FarmPayload = {
      format: FARM_PAYLOAD_FORMAT,
      title: 'escape',
      params: { ...params(), portrait: { path: 'avatar.png', crop: null }, audio: { path: 'speech.wav', trim: { start: 0, end: 1 } }, output: '../escaped.mp4', modelPath: null, seconds: null, mode: 'export', settings: params().settings as FarmPayload['params']['settings'], watermark: params().watermark as FarmPayload['params']['watermark'] },
      control: null,
      submittedFrom: 'test',
    };
    const job = await raw.add('export', payload, { attempts: 3 });
    const worker = await FarmWorker.start({ connection: { url: redis.url }, shared, queueName, name: 'inputs' });
    try {
      const q = await FarmQueue.open({ url: redis.url }, { queueName });
      try {
        let v = await q.get(job.id!);
        for (const t0 = Date.now(); v.state !== 'failed' && Date.now() - t0 < 20_000; v = await q.get(job.id!)) await new Promise((r) => setTimeout(r, 100));
        assert.equal(v.state, 'failed');
        assert.match(v.error ?? '', /^The output \.\.\/escaped\.mp4 in the job resolves to .*escaped\.mp4, outside the shared folder /);
        assert.equal(v.failures, 1, 'a path error is not retried');
      } finally {
        await q.close();
      }
      assert.equal(worker.enginePid, null, 'no engine was started');
      assert.ok(!existsSync(path.join(tmp, 'escaped.mp4')));
    } finally {
      await worker.close();
      await raw.close();
    }
  });
});
