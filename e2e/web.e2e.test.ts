// End-to-end, web host in Chromium (Debian's, or the bundled one: support/browser.ts): import the
// sample avatar and speech, trim a region, generate a preview, queue two exports, restart the host mid-queue and see the queue
// resume and finish, kill the engine mid-export and see the job recover, verify the export's
// watermark. Screenshots of every screen go to e2e/artifacts/ (git-ignored); `npm run screenshots`
// copies the main ones to docs/screenshots/ when they should change. The steps run in order and
// share one page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DeviceInfo, JobView } from '../engine/service/contract.js';
import { verifyVideo } from '../engine/watermark/verify.js';
import { chromiumMissing, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { sampleMedia } from './support/sample-media.js';
import { addExport, generatePreview, importMedia, jobRow, setSteps, shot, trimAt, trimValues, waitJobState } from './support/studio-page.js';

const skip = chromiumMissing();
if (skip) console.log(`web e2e skipped: ${skip}`);

describe('studio in the web host', { skip: skip ?? false, timeout: 15 * 60_000 }, () => {
  let dataDir = '';
  let port = 0;
  const token = 'e2e-token-0123456789abcdef';
  let host: RunningHost | null = null;
  let browser: Browser | null = null;
  let page: Page;
  let media = { avatar: '', speech: '' };
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

  const until = (what: string, fn: () => Promise<boolean>, timeoutMs = 30_000) => waitFor(what, fn, timeoutMs);

  before(async () => {
    ensureRendererBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-'));
    media = await sampleMedia(dataDir);
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
    await importMedia(page, media.avatar, media.speech);
    const project = await page.getByTestId('portrait-image').getAttribute('src');
    assert.match(project ?? '', /^\/media\//);
    // The crop starts around the detected face (the avatar's face is large: the box is the whole
    // picture), with no warning. It can be adjusted: shrink it with the size slider, then drag it.
    const box0 = (await page.getByTestId('face-box').boundingBox())!;
    const stage = (await page.getByTestId('portrait-image').boundingBox())!;
    assert.ok(box0.width > stage.width * 0.9, `the suggested crop covers the face: ${JSON.stringify([box0, stage])}`);
    assert.equal(await page.getByTestId('crop-warning').count(), 0);
    await page.locator('#crop-size').fill('100');
    const box1 = (await page.getByTestId('face-box').boundingBox())!;
    assert.ok(box1.width < box0.width - 5, `the crop shrank: ${box0.width} → ${box1.width}`);
    await page.mouse.move(box1.x + box1.width / 2, box1.y + box1.height / 2);
    await page.mouse.down();
    await page.mouse.move(box1.x + box1.width / 2 - 20, box1.y + box1.height / 2 + 15, { steps: 5 });
    await page.mouse.up();
    const box2 = (await page.getByTestId('face-box').boundingBox())!;
    assert.ok(box2.x < box1.x - 10 && box2.y > box1.y + 5, `the crop moved: ${JSON.stringify([box1, box2])}`);
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
    // Live frames: the engine wrote preview images while sampling, and the host serves the latest.
    const pj = (await rpc<JobView[]>('jobs.list')).find((j) => j.kind === 'preview')!;
    assert.ok(pj.previewUrl, 'the preview job recorded a live frame');
    const frame = await fetch(`http://127.0.0.1:${port}${pj.previewUrl}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(frame.status, 200);
    assert.match(frame.headers.get('content-type') ?? '', /^image\//);
    await shot(page, 'generate');
  });

  let first = '';
  let second = '';
  it('queues two exports; a host restart mid-queue resumes and finishes them', async () => {
    // More steps for the exports, so the first is still running when the host goes down.
    await setSteps(page, 8);
    // Explicit file names: two exports queued within one second would otherwise get the same default
    // name (the service names them by project and time to the second).
    await addExport(page, 'ReFree e2e one', path.join(dataDir, 'outputs', 'e2e-one.mp4'));
    await addExport(page, 'ReFree e2e two', path.join(dataDir, 'outputs', 'e2e-two.mp4'));
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
    await addExport(page, 'ReFree e2e crash', path.join(dataDir, 'outputs', 'e2e-crash.mp4'));
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

  it('pauses, resumes, reorders, cancels and retries jobs from the queue screen', async () => {
    const out = (n: string) => path.join(dataDir, 'outputs', `e2e-${n}.mp4`);
    await addExport(page, 'ReFree e2e a', out('a'));
    await addExport(page, 'ReFree e2e b', out('b'));
    await addExport(page, 'ReFree e2e c', out('c'));
    const ids = (await rpc<JobView[]>('jobs.list')).filter((j) => j.kind === 'export').slice(-3).map((j) => j.id);
    const [a, b, c] = ids as [string, string, string];
    // c waits behind a and b: pause it, move it up one place, cancel b, then retry b and resume c.
    await jobRow(page, c).getByRole('button', { name: 'Pause' }).click();
    await waitJobState(page, c, 'paused', 30_000);
    await jobRow(page, c).getByRole('button', { name: 'Move up' }).click();
    await until('c to move above b', async () => {
      const order = (await rpc<JobView[]>('jobs.list')).map((j) => j.id);
      return order.indexOf(c) < order.indexOf(b);
    });
    let rows: string[] = [];
    await until('the list to show c above b', async () => {
      rows = await page.getByTestId('job').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { jobId: string } }).dataset.jobId));
      return rows.indexOf(c) < rows.indexOf(b);
    }, 5000).catch(() => assert.fail(`the list shows the new order: ${rows.join(', ')} (c=${c}, b=${b})`));
    await jobRow(page, b).getByRole('button', { name: 'Cancel' }).click();
    await waitJobState(page, b, 'cancelled', 60_000);
    await jobRow(page, b).getByRole('button', { name: 'Retry' }).click();
    await jobRow(page, c).getByRole('button', { name: 'Resume' }).click();
    for (const id of [a, b, c]) await waitJobState(page, id, 'done', 240_000);
  });

  it("the exported file carries the watermark and the AI-generated metadata", async () => {
    const job = await rpc<JobView>('jobs.get', { id: first });
    const report = await verifyVideo(job.output!);
    assert.equal(report.metadata.aiGenerated, true);
    assert.equal(report.watermark.found, true, `invisible watermark: ${JSON.stringify(report.watermark)}`);
    assert.equal(report.metadata.jobId, first, 'the metadata names the job that made the file');
    const second_ = await rpc<JobView>('jobs.get', { id: second });
    assert.equal(path.basename(second_.output ?? ''), 'e2e-two.mp4');
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

  it('reopens the last project, with its autosaved crop and trim, after a reload', async () => {
    await page.getByTestId('nav-project').click();
    // An edit with no generation after it: autosaved.
    await page.getByTestId('trim-in').fill('0.5');
    const before = await trimValues(page);
    assert.equal(before.start, 0.5);
    await page.waitForTimeout(1500);
    await page.reload();
    await page.getByTestId('nav-project').click();
    await page.getByTestId('face-box').waitFor({ timeout: 30_000 });
    await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
    assert.deepEqual(await trimValues(page), before);
  });
});
