// farm.* through the service boundary, as the studio calls it, against a real redis-server: the
// Settings section's connection test (and its sentences), an export sent to the farm (inputs copied
// into the shared folder, output refused outside it), the queue screen's list with pause / reorder /
// cancel / retry / remove, and a farm that cannot be reached shown as a sentence, not an error.
// Skipped, with the reason, where redis-server is not installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestRedis, freePort, redisSkipReason } from '../../farm/testing/redis-server.js';
import type { FarmJobList, FarmJobRow, FarmTestResult, Project, Settings } from '../contract.js';
import type { DispatchResult } from '../service.js';
import { StudioService } from '../service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const skip = redisSkipReason();
let tmp = '';
let redis: TestRedis | null = null;

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'refree-farm-service-'));
  if (!skip) redis = await TestRedis.start({ password: 'pw' });
});
after(async () => {
  await redis?.stop();
  await rm(tmp, { recursive: true, force: true });
});

function value<T>(r: DispatchResult): T {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
function error(r: DispatchResult): { code: string; message: string } {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

test('the studio and the render farm: settings test, export to the farm, farm jobs with their controls', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const shared = path.join(tmp, 'shared');
  await mkdir(shared);
  const svc = await StudioService.create({ dataDir: path.join(tmp, 'data'), assetsDir: path.join(ROOT, 'assets'), autoStart: false });
  try {
    // Not set up: no jobs, no error; an export says where to set it up.
    assert.deepEqual(value<FarmJobList>(await svc.dispatch('farm.jobs', {})), { configured: false, jobs: [], problem: null });
    const project = value<Project>(await svc.dispatch('projects.sample', {}));
    assert.match(error(await svc.dispatch('farm.export', { project })).message, /Settings → Render farm/);

    // Settings → Render farm → Test connection: the sentences, then success.
    const farm = { redisUrl: redis!.url, password: 'wrong', tls: false, sharedFolder: shared };
    const wrong = error(await svc.dispatch('farm.test', { farm }));
    assert.equal(wrong.code, 'not-available');
    assert.match(wrong.message, /refused the password/);
    const port = await freePort();
    assert.match(error(await svc.dispatch('farm.test', { farm: { ...farm, redisUrl: `redis://127.0.0.1:${port}` } })).message, /^Nothing answers at redis:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
    assert.match(error(await svc.dispatch('farm.test', { farm: { ...farm, password: 'pw', sharedFolder: path.join(tmp, 'not-mounted') } })).message, /The shared folder .*not-mounted does not exist on this machine/);
    assert.match(error(await svc.dispatch('settings.update', { farm: { ...farm, redisUrl: 'http://x' } })).message, /redis:\/\/host:6379/);
    const ok = value<FarmTestResult>(await svc.dispatch('farm.test', { farm: { ...farm, password: 'pw' } }));
    assert.match(ok.summary, /^Redis \d+\.\d+\.\d+ answers at redis:\/\/127\.0\.0\.1:\d+ .*can be written\.$/);
    const saved = value<Settings>(await svc.dispatch('settings.update', { farm: { ...farm, password: 'pw' } }));
    assert.equal(saved.farm.sharedFolder, shared);

    // Export to the farm: an output outside the shared folder is refused; the default goes inside it.
    const outside = error(await svc.dispatch('farm.export', { project, output: path.join(tmp, 'elsewhere.mp4') }));
    assert.equal(outside.code, 'bad-input');
    assert.ok(outside.message.includes(path.join(tmp, 'elsewhere.mp4')) && outside.message.includes(shared), outside.message);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(value<{ jobId: string }>(await svc.dispatch('farm.export', { project, output: path.join(shared, 'outputs', `sample-${i}.mp4`) })).jobId);
    // The project's portrait and speech were copied into the shared folder for the workers.
    assert.equal((await readdir(path.join(shared, 'inputs', project.id))).length, 2);
    let list = value<FarmJobList>(await svc.dispatch('farm.jobs', {}));
    assert.equal(list.configured, true);
    assert.deepEqual(list.jobs.map((j) => j.id), ids);
    assert.ok(list.jobs.every((j) => j.state === 'queued' && j.worker === null && j.outputPath.startsWith(path.join(shared, 'outputs'))));
    assert.equal(svc.queue.list().length, 0, 'nothing went to the local queue');

    // The queue screen's controls.
    assert.equal(value<FarmJobRow>(await svc.dispatch('farm.pause', { id: ids[0] })).state, 'paused');
    const moved = value<FarmJobRow[]>(await svc.dispatch('farm.reorder', { id: ids[2], index: 0 }));
    assert.deepEqual(moved.map((j) => j.id), [ids[2], ids[1], ids[0]], 'queued first in their new order, then the paused one');
    assert.equal(value<FarmJobRow>(await svc.dispatch('farm.cancel', { id: ids[1] })).state, 'cancelled');
    assert.equal(error(await svc.dispatch('farm.reorder', { id: ids[1], index: 0 })).code, 'conflict');
    assert.equal(value<FarmJobRow>(await svc.dispatch('farm.retry', { id: ids[1] })).state, 'queued');
    assert.equal(value<FarmJobRow>(await svc.dispatch('farm.resume', { id: ids[0] })).state, 'queued');
    assert.deepEqual(value<{ removed: string }>(await svc.dispatch('farm.remove', { id: ids[2] })), { removed: ids[2] });
    assert.equal(error(await svc.dispatch('farm.pause', { id: ids[2] })).code, 'not-found');

    // Redis down: the list says so in a sentence (the queue screen shows it in place of the jobs).
    await redis!.stopServer();
    list = value<FarmJobList>(await svc.dispatch('farm.jobs', {}));
    assert.deepEqual(list.jobs, []);
    assert.match(list.problem ?? '', /^Nothing answers at redis:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
    assert.ok(!existsSync(path.join(shared, 'outputs', 'sample-0.mp4')), 'no worker: nothing was rendered');
  } finally {
    await svc.close();
  }
});
