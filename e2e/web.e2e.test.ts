// End-to-end, web host in Chromium (Debian's, or the bundled one: support/browser.ts). A first-time
// user names a project, picks the portrait with the file picker and drops the speech on the page
// (both uploaded), renames the project, has a broken file refused, crops with the keyboard, switches to
// the sample and back, trims, previews, exports from the Generate screen, downloads and verifies the
// export in the UI, and reloads to find it all. Then the queue's robustness: a host restart
// mid-queue, an engine killed mid-export, pause/resume/reorder/cancel/retry. Screenshots of every
// screen in both themes go to e2e/artifacts/ (git-ignored); `npm run screenshots` copies the main ones
// to docs/screenshots/ when they should change. The steps run in order and share one page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DeviceInfo, JobView } from '../engine/service/contract.js';
import { verifyVideo } from '../engine/watermark/verify.js';
import { chromiumMissing, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { makeAvatar, sampleMedia } from './support/sample-media.js';
import { addExport, chooseFile, dropFile, generatePreview, jobRow, pasteFile, setSteps, shot, shotBothThemes, trimAt, trimValues, waitJobState } from './support/studio-page.js';

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
  let cropAfterKeys = { x: 0, y: 0, size: 0 };
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

  it('shows the start page and empty states before anything is imported', async () => {
    await page.getByTestId('start-page').waitFor();
    await shotBothThemes(page, 'start');
    await page.getByTestId('nav-queue').click();
    await page.getByTestId('queue-empty').waitFor();
    await page.getByTestId('nav-generate').click();
    await page.getByTestId('generate-empty').waitFor();
    await shot(page, 'empty-generate');
  });

  it('a first-time user names the project, picks the portrait, drops the speech, and renames the project', async () => {
    await page.getByTestId('nav-project').click();
    await page.getByTestId('new-project-name').fill('Interview take');
    // The portrait through the picker: the first file starts the project, with the name typed above.
    await chooseFile(page, 'portrait', media.avatar);
    await page.getByTestId('face-box').waitFor({ timeout: 60_000 });
    await page.getByTestId('project-title').getByText('Interview take').waitFor();
    const [p0] = await rpc<{ name: string; path: string }[]>('projects.recent');
    assert.equal(p0?.name, 'Interview take', 'the name typed on the first screen is the project name');
    // The speech by drag and drop (uploaded, streamed).
    await dropFile(page, 'speech-drop', media.speech, 'audio/wav');
    await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 60_000 });
    const t = await trimValues(page);
    assert.equal(t.start, 0);
    assert.ok(t.end > 1, `the trim covers the whole speech at first, got ${t.end}`);
    // Rename from the project bar.
    await page.getByTestId('project-name').fill('Interview final');
    await page.getByTestId('project-name').press('Enter');
    await page.getByTestId('project-title').getByText('Interview final').waitFor();
    await until('the rename to be saved', async () => (await rpc<{ name: string }[]>('projects.recent'))[0]?.name === 'Interview final');
    // Both files are in the project's media bin.
    await page.getByTestId('media-bin').waitFor();
    assert.equal(await page.getByTestId('bin-item').count(), 2);
  });

  it('a broken file is refused at the door with a sentence, and the portrait already there stays', async () => {
    const broken = path.join(dataDir, 'holiday.png');
    await writeFile(broken, 'this is not a picture');
    const before = await page.getByTestId('portrait-image').getAttribute('src');
    await chooseFile(page, 'portrait', broken);
    const notice = page.getByTestId('notices');
    await notice.getByText(/^holiday\.png is not an image/).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('portrait-image').getAttribute('src'), before);
    // The notice does not follow to another screen.
    await page.getByTestId('nav-generate').click();
    assert.equal(await page.getByTestId('notices').count(), 0);
    await page.getByTestId('nav-project').click();
  });

  it('moves and resizes the crop with the keyboard', async () => {
    const box = page.getByTestId('face-box');
    const read = async () => {
      const m = /x (\d+), y (\d+), size (\d+)/.exec((await box.getAttribute('aria-valuetext')) ?? '');
      assert.ok(m, 'the crop box states its position');
      return { x: Number(m[1]), y: Number(m[2]), size: Number(m[3]) };
    };
    await box.focus();
    await page.keyboard.press('Minus');
    await page.keyboard.press('Minus');
    const small = await read();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowDown');
    const moved = await read();
    const step = Math.max(1, Math.round(small.size * 0.02));
    assert.equal(moved.size, small.size);
    assert.equal(moved.x, Math.max(0, small.x - 2 * step), JSON.stringify({ small, moved }));
    assert.ok(moved.y > small.y, JSON.stringify({ small, moved }));
    await until('the crop to be autosaved', async () => {
      const [r] = await rpc<{ path: string }[]>('projects.recent');
      const p = await rpc<{ portrait: { crop: { x: number; y: number; size: number } | null } }>('projects.open', { path: r!.path });
      return JSON.stringify(p.portrait.crop) === JSON.stringify(moved);
    });
    cropAfterKeys = moved;
  });

  it('switches projects: the sample, then back to the interview with its files', async () => {
    await page.getByTestId('project-new').click();
    await page.getByTestId('start-page').waitFor();
    await page.getByTestId('try-sample').click();
    await page.getByTestId('project-title').getByText('Sample talking head').waitFor({ timeout: 60_000 });
    await page.getByTestId('face-box').waitFor({ timeout: 30_000 });
    // A picture pasted onto the screen becomes the portrait; the earlier one stays in the bin.
    const pasted = path.join(dataDir, 'pasted-face.png');
    await makeAvatar(pasted);
    const before = await page.getByTestId('portrait-image').getAttribute('src');
    await pasteFile(page, pasted, 'image/png');
    await until('the pasted portrait to show', async () => (await page.getByTestId('portrait-image').getAttribute('src')) !== before);
    await until('both portraits to be in the bin', async () => (await page.locator('[data-testid="bin-item"][data-kind="image"]').count()) === 2);
    await page.getByTestId('project-open').click();
    await page.getByTestId('open-menu').getByRole('button', { name: 'Open Interview final' }).click();
    await page.getByTestId('project-title').getByText('Interview final').waitFor({ timeout: 30_000 });
    await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 60_000 });
    await shotBothThemes(page, 'project');
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
  });

  it('names a bad setting beside its field until it is fixed, then generates a preview and plays it', async () => {
    await setSteps(page, 0);
    await page.getByTestId('error-steps').getByText('Steps must be between 1 and 200').waitFor();
    assert.equal(await page.getByTestId('generate-preview').isDisabled(), true);
    await setSteps(page, 2);
    assert.equal(await page.getByTestId('error-steps').count(), 0, 'the error clears itself once fixed');
    await generatePreview(page);
    const src = await page.getByTestId('preview-video').getAttribute('src');
    assert.ok(src?.startsWith('/media/'), `preview video URL: ${src}`);
    // The web host serves media with Range: the video can seek.
    const res = await fetch(`http://127.0.0.1:${port}${src}`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-99' } });
    assert.equal(res.status, 206);
    // Done says Done once (the badge), not the last stage it passed ("finishing the video").
    assert.equal(await page.getByTestId('preview-state').textContent(), 'Done');
    assert.equal(await page.getByTestId('preview-line').count(), 0);
    const pj = (await rpc<JobView[]>('jobs.list')).find((j) => j.kind === 'preview')!;
    assert.ok(pj.previewUrl, 'the preview job recorded a live frame');
    await shotBothThemes(page, 'generate');
  });

  let exported = '';
  it('exports from the Generate screen with a summary, then reveals (downloads) and verifies it in the UI', async () => {
    await page.getByTestId('nav-generate').click();
    const summary = page.getByTestId('export-summary');
    await summary.waitFor({ timeout: 30_000 });
    assert.match((await summary.textContent()) ?? '', /256×256 pixels.*frames at 15 fps.*refree-mini, 2 steps/);
    await page.getByTestId('export-panel').scrollIntoViewIfNeeded();
    await shotBothThemes(page, 'export');
    const out = path.join(dataDir, 'outputs', 'interview-final.mp4');
    await page.getByTestId('export-file').fill(out);
    await page.getByTestId('export-now').click();
    await page.getByTestId('export-queued').waitFor({ timeout: 30_000 });
    await page.getByTestId('export-queued').getByRole('button', { name: 'Show the queue' }).click();
    const row = page.locator('[data-testid="job"][data-kind="export"]').first();
    assert.equal(await row.getByTestId('job-title').textContent(), 'Export · Interview final → interview-final.mp4');
    const id = (await row.getAttribute('data-job-id'))!;
    await waitJobState(page, id, 'done', 300_000);
    exported = id;
    assert.equal(await row.getByTestId('job-state').textContent(), 'Done');
    assert.equal(await row.getByTestId('job-line').count(), 0, 'no stale stage message under a finished job');
    // No reorder arrows on a finished job; the filter separates previews from exports.
    assert.equal(await row.getByRole('button', { name: 'Move up' }).count(), 0);
    await page.getByTestId('filter-preview').click();
    assert.equal(await page.locator('[data-testid="job"][data-kind="export"]').count(), 0);
    await page.getByTestId('filter-all').click();
    // Reveal in a browser is a download of the file itself.
    const href = (await row.getByTestId('download-output').getAttribute('href'))!;
    const dl = await fetch(`http://127.0.0.1:${port}${href}`);
    assert.equal(dl.status, 200);
    assert.match(dl.headers.get('content-disposition') ?? '', /^attachment; filename="interview-final\.mp4"/);
    // The watermark check in the UI (refree verify behind it).
    await row.getByTestId('verify-output').click();
    await row.locator('[data-testid="verify-result"][data-found="true"]').waitFor({ timeout: 120_000 });
    assert.match((await row.getByTestId('verify-result').textContent()) ?? '', /^The invisible watermark is present \(payload [0-9a-f]{16}.*labelled AI-generated/);
    const report = await verifyVideo(out);
    assert.equal(report.metadata.jobId, id, 'the metadata names the job that made the file');
    await shotBothThemes(page, 'queue');
  });

  it('reloads and finds it all: the project, its crop, its files and the finished export', async () => {
    await page.reload();
    await page.getByTestId('nav-project').click();
    await page.getByTestId('project-title').getByText('Interview final').waitFor({ timeout: 30_000 });
    await page.getByTestId('face-box').waitFor({ timeout: 30_000 });
    await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
    assert.match((await page.getByTestId('face-box').getAttribute('aria-valuetext')) ?? '', new RegExp(`x ${cropAfterKeys.x}, y ${cropAfterKeys.y}, size ${cropAfterKeys.size}`));
    assert.equal(await page.getByTestId('bin-item').count(), 2);
    await page.getByTestId('nav-queue').click();
    await page.locator(`[data-testid="job"][data-job-id="${exported}"][data-state="done"]`).waitFor({ timeout: 30_000 });
  });

  let first = '';
  let second = '';
  it('queues two exports; a host restart mid-queue resumes and finishes them', async () => {
    // More steps for the exports, so the first is still running when the host goes down.
    await setSteps(page, 6);
    // Explicit file names: two exports queued within one second would otherwise get the same default
    // name (the service names them by project and time to the second).
    await addExport(page, 'ReFree e2e one', path.join(dataDir, 'outputs', 'e2e-one.mp4'));
    await addExport(page, 'ReFree e2e two', path.join(dataDir, 'outputs', 'e2e-two.mp4'));
    const jobs = await rpc<JobView[]>('jobs.list');
    // The two just queued (the interview's export came before them).
    const exports = jobs.filter((j) => j.kind === 'export' && path.basename((j.params as { output: string }).output).startsWith('e2e-'));
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

  it('settings and training screens render; the theme switches; the output folder is checked when chosen', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('device').waitFor();
    await page.getByTestId('device').getByText('Engine', { exact: true }).waitFor();
    await page.getByTestId('models').waitFor();
    // The built-in trained model is listed first, once, and nothing calls it untrained.
    const listed = page.getByTestId('models').locator('li.job');
    await listed.first().waitFor();
    assert.equal(await listed.first().locator('strong').textContent(), 'refree-mini');
    await listed.first().locator('.badge', { hasText: /^built-in$/ }).waitFor();
    assert.equal(await listed.locator('strong', { hasText: /^refree-mini$/ }).count(), 1);
    assert.equal(await page.getByText(/untrained|expect noise/).count(), 0, 'no untrained-model notice');
    await page.getByTestId('output-folder-path').fill(path.join(dataDir, 'no-such-folder'));
    await page.getByTestId('output-folder-use').click();
    await page.getByTestId('output-folder-error').getByText(/no-such-folder does not exist; create it first/).waitFor();
    await page.getByTestId('theme').selectOption('dark');
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await shot(page, 'settings-dark');
    await shot(page, 'settings');
    await page.getByTestId('theme').selectOption('light');
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'light');
    await shot(page, 'settings-light');
    await page.getByTestId('nav-training').click();
    await page.getByTestId('screen-training').waitFor();
    assert.equal(await page.getByText(/training issue|coming with/).count(), 0, 'no planning words in the UI');
    await shotBothThemes(page, 'training');
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
