// End-to-end, the Electron app through Playwright's `_electron` (issue 5): the same page steps as the
// web spec (support/studio-page.ts) against the desktop host — preload API, refree-media:// protocol,
// engine in a utilityProcess. Skipped, with the reason printed, when the Electron binary is absent
// (its download runs outside the npm registry).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron } from 'playwright-core';
import type { ElectronApplication, Page } from 'playwright-core';
import type { DeviceInfo, JobView } from '../engine/service/contract.js';
import { verifyVideo } from '../engine/watermark/verify.js';
import { findElectronBinary } from '../electron/electron-binary.mjs';
import { ensureRendererBuilt } from './support/build-renderer.js';
import { sampleMedia } from './support/sample-media.js';
import { addExport, generatePreview, importMedia, ROOT, setSteps, shot, trimAt, trimValues, waitJobState } from './support/studio-page.js';

const found = findElectronBinary();
const skip = found.reason;
if (skip) console.log(`Electron e2e skipped: ${skip}`);

describe('studio in the Electron app', { skip: skip ?? false, timeout: 15 * 60_000 }, () => {
  let dataDir = '';
  let app: ElectronApplication | null = null;
  let page: Page;
  let media = { avatar: '', speech: '' };

  async function launch(): Promise<void> {
    app = await _electron.launch({ executablePath: found.path!, args: [path.join(ROOT, 'out', 'electron', 'main.js')], cwd: ROOT, env: { ...process.env, REFREE_DATA_DIR: dataDir } });
    page = await app.firstWindow();
    await page.getByTestId('nav-project').waitFor({ timeout: 60_000 });
  }

  /** Calls the service through the preload's named API, as the renderer does. */
  async function call<T>(method: string, params: unknown = {}): Promise<T> {
    const r = (await page.evaluate(`window.refree.methods[${JSON.stringify(method)}](${JSON.stringify(params)})`)) as { ok: boolean; value?: T; error?: { message: string } };
    if (!r.ok) throw new Error(`${method}: ${r.error?.message}`);
    return r.value as T;
  }

  async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await fn().catch(() => false))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    ensureRendererBuilt();
    const b = spawnSync(process.execPath, [path.join(ROOT, 'electron', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(b.status, 0, 'electron/build.mjs failed');
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-electron-'));
    media = await sampleMedia(dataDir);
    await launch();
  });

  after(async () => {
    await app?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs sandboxed with the narrow preload API only', async () => {
    assert.equal(await page.evaluate('typeof require'), 'undefined');
    assert.equal(await page.evaluate('typeof process'), 'undefined');
    assert.equal(await page.evaluate("typeof window.refree.methods['jobs.list']"), 'function');
  });

  it('imports the sample avatar and speech, trims, and previews', async () => {
    await importMedia(page, media.avatar, media.speech);
    await trimAt(page, 0.15, 'i');
    await trimAt(page, 0.6, 'o');
    const t = await trimValues(page);
    assert.ok(t.start > 0 && t.end > t.start);
    await setSteps(page, 2);
    await generatePreview(page);
    const src = await page.getByTestId('preview-video').getAttribute('src');
    assert.match(src ?? '', /^refree-media:\/\/media\//);
    await shot(page, 'electron-generate');
  });

  it('queues two exports; they survive an app restart and an engine kill', async () => {
    await setSteps(page, 8);
    await addExport(page, 'ReFree e2e one', path.join(dataDir, 'outputs', 'e2e-one.mp4'));
    await addExport(page, 'ReFree e2e two', path.join(dataDir, 'outputs', 'e2e-two.mp4'));
    const exports = (await call<JobView[]>('jobs.list')).filter((j) => j.kind === 'export');
    const [first, second] = [exports[0]!.id, exports[1]!.id];
    await until('the first export to run', async () => (await call<JobView>('jobs.get', { id: first })).state === 'running', 60_000);
    await app!.close();
    await launch();
    await page.getByTestId('nav-queue').click();
    await until('the second export to run', async () => (await call<JobView>('jobs.get', { id: second })).state === 'running', 240_000);
    const pid = (await call<DeviceInfo>('device.info')).engine.pid;
    if (pid) process.kill(pid, 'SIGKILL');
    await waitJobState(page, first, 'done', 240_000);
    await waitJobState(page, second, 'done', 240_000);
    const a = await call<JobView>('jobs.get', { id: first });
    assert.ok(a.attempts >= 2, `resumed after the restart (attempts ${a.attempts})`);
    const report = await verifyVideo(a.output!);
    assert.equal(report.watermark.found, true);
    assert.equal(report.metadata.aiGenerated, true);
    await shot(page, 'electron-queue');
  });
});
