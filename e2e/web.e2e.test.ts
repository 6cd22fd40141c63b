// End-to-end, web host in Debian's Chromium (issue 5 "Must show"): import the sample avatar and speech,
// trim a region, generate a preview, queue two exports, restart the host mid-queue and see the queue
// resume and finish, kill the engine mid-export and see the job recover, verify the export's
// watermark. Screenshots of every screen go to e2e/artifacts/ (the main ones are copied to
// docs/screenshots/ by hand when they change). The steps run in order and share one page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DeviceInfo, JobView } from '../engine/service/contract.js';
import { verifyVideo } from '../engine/watermark/verify.js';
import { chromiumMissing, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { addExport, ARTIFACTS, AVATAR, generatePreview, importMedia, jobRow, ROOT, setSteps, shot, SPEECH, trimAt, trimValues, waitJobState } from './support/studio-page.js';

const skip = chromiumMissing() ?? (!existsSync(AVATAR) || !existsSync(SPEECH) ? 'the sample media (assets/demo/avatar.png, speech.wav) are missing' : null);
if (skip) console.log(`# web e2e skipped: ${skip}`);

describe('studio in the web host', { skip: skip ?? false, timeout: 15 * 60_000 }, () => {
  let dataDir = '';
  let port = 0;
  const token = 'e2e-token-0123456789abcdef';
  let host: RunningHost | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const pageErrors: string[] = [];

  async function rpc<T>(method: string, params: unknown = {}): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${port}/api/rpc`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ method, params }) });
    const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
    if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
    return body.value as T;
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => null);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n--- host log ---\n${host?.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  before(async () => {
    ensureRendererBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-'));
    port = await freePort();
    host = await startHost({ dataDir, port, token });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.getByTestId('nav-project').waitFor();
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows empty states before anything is imported', async () => {
    await page.getByTestId('nav-queue').click();
    await page.getByTestId('queue-empty').waitFor();
    await page.getByTestId('nav-generate').click();
    await page.getByTestId('generate-empty').waitFor();
    await shot(page, 'empty-generate');
  });

  it('imports the sample avatar and speech', async () => {
    await importMedia(page);
    const project = await page.getByTestId('portrait-image').getAttribute('src');
    assert.match(project ?? '', /^\/media\//);
    const t = await trimValues(page);
    assert.equal(t.start, 0);
    assert.ok(t.end > 1, `the trim should cover the whole speech at first, got ${t.end}`);
  });

  it('trims a region with the keyboard (I/O) and plays it', async () => {
    const full = await trimValues(page);
    await trimAt(page, 0.15, 'i');
    await trimAt(page, 0.6, 'o');
    const t = await trimValues(page);
    assert.ok(t.start > 0.3 && t.start < full.end * 0.35, `trim in at ~15%: ${t.start}`);
    assert.ok(t.end > full.end * 0.4 && t.end < full.end * 0.8, `trim out at ~60%: ${t.end}`);
    await page.keyboard.press('Space');
    await page.getByTestId('play-region').filter({ hasText: 'Pause' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Space');
    await page.getByTestId('play-region').filter({ hasText: 'Play region' }).waitFor({ timeout: 10_000 });
    await shot(page, 'project');
  });

  it('generates a preview with live progress, then plays it', async () => {
    await setSteps(page, 2);
    await generatePreview(page);
    const src = await page.getByTestId('preview-video').getAttribute('src');
    assert.ok(src?.startsWith('/media/'), `preview video URL: ${src}`);
    // The web host serves media with Range: the video can seek.
    const res = await fetch(`http://127.0.0.1:${port}${src}`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-99' } });
    assert.equal(res.status, 206);
    await shot(page, 'generate');
  });

  let first = '';
  let second = '';
  it('queues two exports; a host restart mid-queue resumes and finishes them', async () => {
    // More steps for the exports, so the first is still running when the host goes down.
    await setSteps(page, 8);
    await addExport(page, 'ReFree e2e one');
    await addExport(page, 'ReFree e2e two');
    const jobs = await rpc<JobView[]>('jobs.list');
    const exports = jobs.filter((j) => j.kind === 'export');
    assert.equal(exports.length, 2);
    [first, second] = [exports[0]!.id, exports[1]!.id];
    await waitFor('the first export to run', async () => (await rpc<JobView>('jobs.get', { id: first })).state === 'running', 60_000);
    await shot(page, 'queue-running');
    await host!.stop('SIGTERM');
    await page.getByTestId('nav-queue').click();
    host = await startHost({ dataDir, port, token });
    // The page reconnects by itself (WebSocket backoff) and re-reads the queue.
    await waitJobState(page, first, 'done', 240_000);
    await waitJobState(page, second, 'done', 240_000);
    const a = await rpc<JobView>('jobs.get', { id: first });
    assert.ok(a.attempts >= 2, `the first export should have been resumed after the restart (attempts ${a.attempts})`);
    assert.ok(a.output && existsSync(a.output), 'the first export wrote its file');
    await shot(page, 'queue');
  });

  it('recovers an export when the engine process is killed mid-export', async () => {
    await addExport(page, 'ReFree e2e crash');
    const jobs = await rpc<JobView[]>('jobs.list');
    const id = jobs.filter((j) => j.kind === 'export').at(-1)!.id;
    const pid = await waitFor(
      'the export to run in the engine',
      async () => {
        const [job, dev] = [await rpc<JobView>('jobs.get', { id }), await rpc<DeviceInfo>('device.info')];
        return job.state === 'running' && (job.progress?.done ?? 0) > 0 && dev.engine.pid ? dev.engine.pid : null;
      },
      120_000,
    );
    process.kill(pid, 'SIGKILL');
    await waitJobState(page, id, 'done', 240_000);
    const job = await rpc<JobView>('jobs.get', { id });
    assert.ok(job.recoveries >= 1, `the job should record its recovery (recoveries ${job.recoveries})`);
    assert.ok(job.history.some((h) => /kill|died|exit/i.test(h.message)), `the history says what happened: ${JSON.stringify(job.history.map((h) => h.message))}`);
    await jobRow(page, id).getByText(/recovered/).waitFor();
  });

  it("the exported file carries the watermark and the AI-generated metadata", async () => {
    const job = await rpc<JobView>('jobs.get', { id: first });
    const report = await verifyVideo(job.output!);
    assert.equal(report.metadata.aiGenerated, true);
    assert.equal(report.watermark.found, true, `invisible watermark: ${JSON.stringify(report.watermark)}`);
    assert.ok(report.metadata.jobId === null || report.metadata.jobId.includes(first) || first.includes(report.metadata.jobId), `metadata job id ${report.metadata.jobId} vs ${first}`);
  });

  it('settings and training screens render; the theme switches', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('device').waitFor();
    await page.getByTestId('device').getByText('Engine', { exact: true }).waitFor();
    await page.getByTestId('models').waitFor();
    await page.getByTestId('theme').selectOption('dark');
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await shot(page, 'settings-dark');
    await page.getByTestId('theme').selectOption('light');
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'light');
    await shot(page, 'settings');
    await page.getByTestId('nav-training').click();
    await page.getByTestId('screen-training').getByText('coming with the training issue').first().waitFor();
    await shot(page, 'training');
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });

  it('copies the main screenshots to docs/screenshots', async () => {
    const docs = path.join(ROOT, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    for (const n of ['project', 'generate', 'queue', 'settings']) await copyFile(path.join(ARTIFACTS, `${n}.png`), path.join(docs, `${n}.png`));
  });
});
