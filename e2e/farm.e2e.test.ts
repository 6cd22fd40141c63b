// End-to-end, the render farm in the studio (web host in Chromium, a real redis-server with a password,
// a real farm worker): Settings → Render farm refuses a wrong password with its sentence and passes
// with the right one; an export sent to the farm from the Generate screen shows on the queue screen,
// waiting, then with its worker's name, done, and watermarked; Pause, Resume, Cancel, Retry and Remove
// on a farm row. Screenshots go to e2e/artifacts/ (farm-settings, farm-queue). Skipped with the
// reason where Chromium or redis-server is missing.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TestRedis, redisSkipReason } from '../engine/farm/testing/redis-server.js';
import { FarmWorker } from '../engine/farm/worker.js';
import type { FarmJobList } from '../engine/service/contract.js';
import { verifyVideo } from '../engine/watermark/verify.js';
import { chromiumMissing, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { setSteps, shot } from './support/studio-page.js';

const skip = chromiumMissing() ?? redisSkipReason();
if (skip) console.log(`farm e2e skipped: ${skip}`);

describe('the render farm in the studio', { skip: skip ?? false, timeout: 10 * 60_000 }, () => {
  let dataDir = '';
  let shared = '';
  let port = 0;
  const token = 'e2e-farm-token-0123456789';
  let host: RunningHost | null = null;
  let browser: Browser | null = null;
  let redis: TestRedis | null = null;
  let page: Page;

  async function rpc<T>(method: string, params: unknown = {}): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${port}/api/rpc`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ method, params }) });
    const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
    if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
    return body.value as T;
  }
  const farmRow = (state?: string) => page.locator(`[data-testid="farm-job"]${state ? `[data-state="${state}"]` : ''}`);

  before(async () => {
    ensureRendererBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-farm-'));
    shared = path.join(dataDir, 'shared');
    await mkdir(shared);
    redis = await TestRedis.start({ password: 'farm-pw' });
    port = await freePort();
    host = await startHost({ dataDir, port, token });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.getByTestId('nav-project').waitFor();
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('Settings → Render farm: a wrong password is refused with its sentence; the right one passes and is saved', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('farm-redis-url').fill(redis!.url);
    await page.getByTestId('farm-password').fill('wrong');
    await page.getByTestId('farm-shared-folder').fill(shared);
    await page.getByTestId('farm-test').click();
    await page.getByTestId('farm-test-result').getByText(/refused the password/).waitFor({ timeout: 30_000 });
    await page.getByTestId('farm-password').fill('farm-pw');
    await page.getByTestId('farm-test').click();
    await page.getByTestId('farm-test-result').getByText(/^Redis \d+\.\d+\.\d+ answers at redis:\/\/127\.0\.0\.1:\d+/).waitFor({ timeout: 30_000 });
    await page.getByTestId('farm-save').click();
    await page.getByTestId('farm-test-result').getByText('Saved.').waitFor();
    await page.getByTestId('farm-settings').scrollIntoViewIfNeeded();
    await shot(page, 'farm-settings');
    const s = await rpc<{ farm: { redisUrl: string; sharedFolder: string } }>('settings.get');
    assert.equal(s.farm.sharedFolder, shared);
  });

  it('an export sent to the farm waits on the queue screen, then shows its worker, finishes and is watermarked', async () => {
    await page.getByTestId('nav-project').click();
    await page.getByTestId('try-sample').click();
    await page.getByTestId('face-box').waitFor({ timeout: 60_000 });
    await setSteps(page, 2);
    await page.getByTestId('export-summary').waitFor({ timeout: 30_000 });
    await page.getByTestId('export-target').selectOption('farm');
    await page.getByTestId('export-now').click();
    await page.getByTestId('export-queued').getByText(/on the render farm/).waitFor({ timeout: 30_000 });
    await page.getByTestId('nav-queue').click();
    await farmRow('queued').getByTestId('farm-worker').getByText('no worker yet').waitFor({ timeout: 30_000 });
    const worker = await FarmWorker.start({ connection: { url: redis!.url, password: 'farm-pw' }, shared, name: 'studio-e2e-gpu0' });
    try {
      await farmRow('done').getByTestId('farm-worker').getByText('worker studio-e2e-gpu0').waitFor({ timeout: 240_000 });
    } finally {
      await worker.close();
    }
    await shot(page, 'farm-queue');
    const [job] = (await rpc<FarmJobList>('farm.jobs')).jobs;
    assert.ok(job && job.outputPath.startsWith(path.join(shared, 'outputs')), JSON.stringify(job));
    const v = await verifyVideo(job.outputPath);
    assert.equal(v.watermark.found, true);
    assert.equal(v.watermark.payload, job.result?.payload);
  });

  it('Pause, Resume, Cancel, Retry and Remove on a farm row', async () => {
    await page.getByTestId('nav-generate').click();
    await page.getByTestId('export-target').selectOption('farm');
    await page.getByTestId('export-now').click();
    await page.getByTestId('export-queued').waitFor({ timeout: 30_000 });
    await page.getByTestId('nav-queue').click();
    const queued = (await rpc<FarmJobList>('farm.jobs')).jobs.find((j) => j.state === 'queued');
    assert.ok(queued, 'the second export waits (no worker now)');
    const row = page.locator(`[data-testid="farm-job"][data-job-id="${queued.id}"]`);
    await row.and(page.locator('[data-state="queued"]')).waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.and(page.locator('[data-state="paused"]')).waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.and(page.locator('[data-state="queued"]')).waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Cancel' }).click();
    await row.and(page.locator('[data-state="cancelled"]')).waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Retry' }).click();
    await row.and(page.locator('[data-state="queued"]')).waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Cancel' }).click();
    await row.and(page.locator('[data-state="cancelled"]')).waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual((await rpc<FarmJobList>('farm.jobs')).jobs.map((j) => j.state), ['done'], 'only the finished export is left');
  });
});
