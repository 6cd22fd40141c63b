// End-to-end, the training wizard in the web host (Chromium: support/browser.ts), on the tiny-random
// package (installed in the data folder like an imported model, so the steps take seconds; the
// built-in refree-mini is listed first) with tiny step counts. A creator adds synthetic talking-face clips with the file picker plus a
// faceless clip and a silent one (both refused with their reasons; training goes on without them),
// keeps one clip for the comparison, picks the CPU preset after reading its estimate, runs SFT (the
// loss chart grows while it runs, and a page reload mid-run shows the history so far), runs DPO (loss,
// implicit accuracy and error charts), compares before/after, saves a named model and generates a
// preview with it. A second session's SFT has its engine killed and the host restarted mid-run and
// resumes from its checkpoint, each step counted once. Screenshots of every step go to e2e/artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { TINY_RANDOM_NAME, tinyRandomPackage } from '../engine/pipeline/testing/random-package.js';
import type { DeviceInfo, JobView, TrainingMetrics, TrainingSession } from '../engine/service/contract.js';
import { FAKE_MEDIA_ARGS, chromiumMissing, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { shot } from './support/studio-page.js';
import type { TrainingClips } from './support/training-page.js';
import { chartPoints, clipCard, fillStage, makeTrainingClips, waitChartPoints, waitStageState } from './support/training-page.js';

const skip = chromiumMissing();
if (skip) console.log(`training e2e skipped: ${skip}`);

describe('the training wizard in the web host', { skip: skip ?? false, timeout: 20 * 60_000 }, () => {
  let dataDir = '';
  let port = 0;
  const token = 'e2e-training-0123456789abcdef';
  let host: RunningHost | null = null;
  let browser: Browser | null = null;
  let page: Page;
  let clips: TrainingClips;
  const pageErrors: string[] = [];

  async function rpc<T>(method: string, params: unknown = {}): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${port}/api/rpc`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ method, params }) });
    const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
    if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
    return body.value as T;
  }

  async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => null);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n--- host log ---\n${host?.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const openTraining = async () => {
    await page.getByTestId('nav-training').click();
    await page.getByTestId('screen-training').waitFor();
  };

  before(async () => {
    ensureRendererBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-training-'));
    clips = await makeTrainingClips(path.join(dataDir, 'my-clips'));
    await tinyRandomPackage({ dir: path.join(dataDir, 'data', 'models', TINY_RANDOM_NAME) });
    port = await freePort();
    host = await startHost({ dataDir: path.join(dataDir, 'data'), port, token });
    // A fake camera and microphone (a moving test pattern and a beep) for the webcam recording.
    browser = await launchChromium(FAKE_MEDIA_ARGS);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.getByTestId('nav-training').waitFor();
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  let sessionId = '';

  it('clips are checked as they arrive; a faceless and a silent clip are refused with the reason and what to do', async () => {
    await openTraining();
    await page.getByTestId('training-start').waitFor();
    await shot(page, 'training-0-start');
    await page.getByTestId('training-name').fill('Synthetic presenter');
    await page.getByTestId('training-new').click();
    await page.getByTestId('step-clips').waitFor();
    sessionId = (await rpc<TrainingSession[]>('training.listRuns'))[0]!.id;
    const all = [...clips.good, clips.heldOut, clips.noFace, clips.noSpeech];
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('clip-drop').click();
    await (await chooser).setFiles(all);
    await until('every clip checked', async () => (await page.getByTestId('clip').count()) === all.length && (await page.getByTestId('clip-checking').count()) === 0, 120_000);
    const noFace = clipCard(page, 'test-pattern.mp4');
    assert.equal(await noFace.getAttribute('data-accepted'), 'false');
    assert.match(await noFace.getByTestId('clip-reason').innerText(), /No face found.*Face the camera/s);
    const silent = clipCard(page, 'silent-take.mp4');
    assert.equal(await silent.getAttribute('data-accepted'), 'false');
    assert.match(await silent.getByTestId('clip-reason').innerText(), /No speech.*microphone/s);
    for (const f of clips.good) assert.equal(await clipCard(page, path.basename(f)).getAttribute('data-accepted'), 'true');
    // A controlled checkbox: it shows the new state once the studio has moved the clip.
    // A webcam take: recorded in the page, uploaded, checked like a file. The fake camera shows a test
    // pattern, so it is refused for the face, with its length read from the recording.
    await page.getByTestId('record-start').click();
    await page.getByTestId('record-stop').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(2500);
    await page.getByTestId('record-stop').click();
    const take = page.locator('[data-testid="clip"][data-clip^="recording-"]');
    await take.waitFor({ timeout: 60_000 });
    assert.equal(await take.getAttribute('data-accepted'), 'false');
    assert.match(await take.getByTestId('clip-reason').innerText(), /No face found/);
    assert.match(await take.innerText(), /Length: 2\.\d s|Length: 3\.\d s/);
    await shot(page, 'training-1b-webcam-take');
    await take.getByRole('button', { name: /Remove/ }).click();
    await take.waitFor({ state: 'detached' });
    await clipCard(page, 'held-out.mp4').getByTestId('clip-heldout').click();
    await clipCard(page, 'held-out.mp4').locator('.badge', { hasText: 'kept for Compare' }).waitFor();
    assert.match(await page.getByTestId('clip-summary').innerText(), /3 clips will be trained on; 2 left out/);
    // Every accepted clip has its thumbnail.
    assert.equal(await page.locator('[data-testid="clip"][data-accepted="true"] img.clip-thumb').count(), 4);
    await shot(page, 'training-1-clips');
  });

  it('shows the presets with their memory and time estimates before anything runs', async () => {
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('step-model').waitFor();
    // The built-in refree-mini is offered first; the small test package is chosen for speed.
    const offered = await page.getByTestId('train-model').locator('option').allTextContents();
    assert.equal(offered[0], 'refree-mini (built-in demo)');
    assert.ok(offered.includes(TINY_RANDOM_NAME), offered.join(', '));
    await page.getByTestId('train-model').selectOption(TINY_RANDOM_NAME);
    await until('the session on the tiny package', async () => (await rpc<TrainingSession[]>('training.listRuns')).find((s) => s.id === sessionId)?.model === TINY_RANDOM_NAME, 10_000);
    await page.getByTestId('preset-cpu').getByTestId('preset-estimate').waitFor({ timeout: 60_000 });
    await page.getByTestId('preset-cpu').click();
    assert.equal(await page.getByTestId('preset-cpu').getAttribute('aria-checked'), 'true');
    assert.match(await page.getByTestId('estimate').innerText(), /Fits on/);
    await shot(page, 'training-2-model');
  });

  it('SFT runs with a live loss chart; a reload mid-run shows the history; it finishes without the refused clips', async () => {
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('step-sft').waitFor();
    await fillStage(page, 'sft', { steps: '120', checkpointEvery: '10', sampleEvery: '120' });
    // The estimate follows the settings as typed, before anything runs.
    assert.match(await page.getByTestId('sft-estimate').innerText({ timeout: 30_000 }), /Needs about .* on this computer/);
    await shot(page, 'training-3-sft-settings');
    await page.getByTestId('sft-start').click();
    // Live: the chart gains points while the job is still running.
    const first = await waitChartPoints(page, 'sft-chart-loss', 3, 180_000);
    const later = await waitChartPoints(page, 'sft-chart-loss', first + 3, 120_000);
    assert.ok(later > first);
    await page.getByTestId('sft-chart-loss').scrollIntoViewIfNeeded();
    await shot(page, 'training-4-sft-running');
    const jobState = async () => (await rpc<TrainingSession>('training.get', { id: sessionId })).sft?.state;
    assert.equal(await jobState(), 'running', 'the reload happens mid-run');
    await page.reload();
    await openTraining();
    await page.getByTestId('step-sft').waitFor();
    const afterReload = await waitChartPoints(page, 'sft-chart-loss', later, 10_000);
    assert.ok(afterReload >= later, `the reloaded chart shows the history (${afterReload} ≥ ${later} points)`);
    await waitStageState(page, 'sft', 'Done', 240_000);
    await waitChartPoints(page, 'sft-chart-loss', 120, 10_000);
    const m = await rpc<TrainingMetrics>('training.metrics', { id: sessionId, stage: 'sft' });
    assert.deepEqual(m.rows.map((r) => r.step), Array.from({ length: 120 }, (_, i) => i + 1));
    assert.match(await page.getByTestId('sft-metrics-line').innerText(), /Step 120 of 120/);
    await page.getByTestId('sft-chart-loss').scrollIntoViewIfNeeded();
    // The sample video made at the last step, playable in the step.
    await page.getByTestId('sft-samples').locator('video').first().waitFor({ timeout: 10_000 });
    assert.equal(m.samples.length, 1);
    await page.getByTestId('sft-samples').scrollIntoViewIfNeeded();
    await shot(page, 'training-5-sft-done');
    // The refused clips are still listed with their reasons; the three good ones were trained on.
    await page.getByTestId('wizard-clips').click();
    assert.match(await page.getByTestId('clip-summary').innerText(), /3 clips will be trained on; 2 left out/);
  });

  it('DPO runs from the SFT result with loss, implicit-accuracy and error charts', async () => {
    await page.getByTestId('wizard-dpo').click();
    await page.getByTestId('step-dpo').waitFor();
    await fillStage(page, 'dpo', { steps: '3', sampleSteps: '2', windowsPerClip: '1', checkpointEvery: '1' });
    await page.getByTestId('dpo-start').click();
    await waitStageState(page, 'dpo', 'Running', 60_000);
    await page.getByTestId('dpo-status').waitFor();
    await shot(page, 'training-6a-dpo-running');
    await waitStageState(page, 'dpo', 'Done', 300_000);
    for (const c of ['dpo-chart-loss', 'dpo-chart-accuracy', 'dpo-chart-errors']) assert.equal(await waitChartPoints(page, c, 3, 10_000), 3, c);
    const m = await rpc<TrainingMetrics>('training.metrics', { id: sessionId, stage: 'dpo' });
    assert.ok(m.rows.every((r) => r.accuracy !== undefined && r.policyErrGt !== undefined && r.refErrGt !== undefined), 'DPO rows carry accuracy and both error lines');
    await page.getByTestId('dpo-chart-errors').scrollIntoViewIfNeeded();
    await shot(page, 'training-6-dpo-done');
  });

  it('compares before and after on the held-out clip with scores', async () => {
    await page.getByTestId('wizard-compare').click();
    await page.getByTestId('compare-start').click();
    await page.getByTestId('compare-before').locator('video').waitFor({ timeout: 300_000 });
    await page.getByTestId('compare-after').locator('video').waitFor({ timeout: 300_000 });
    await page.getByTestId('compare-after').getByTestId('compare-scores').waitFor({ timeout: 120_000 });
    await page.getByTestId('compare-before').getByTestId('compare-scores').waitFor({ timeout: 120_000 });
    await page.waitForFunction(`[...document.querySelectorAll('[data-testid^="compare-"] video')].every((v) => v.readyState >= 2)`, undefined, { timeout: 30_000 });
    await shot(page, 'training-7-compare');
  });

  it('saves a named model that Settings lists and Generate uses for a preview', async () => {
    await page.getByTestId('wizard-save').click();
    await page.getByTestId('save-name').fill('synthetic-presenter');
    await page.getByTestId('save-model').click();
    await page.getByTestId('saved').waitFor({ timeout: 30_000 });
    await shot(page, 'training-8-saved');
    const models = await rpc<{ name: string }[]>('models.list');
    assert.ok(models.some((m) => m.name === 'synthetic-presenter'));
    // A project to generate in (the shipped sample), then "Use it in Generate".
    await rpc('projects.sample', {});
    await page.reload();
    await page.getByTestId('project-bar').waitFor({ timeout: 30_000 }).catch(() => undefined);
    await openTraining();
    await page.getByTestId('wizard-save').click();
    await page.getByTestId('use-in-generate').click();
    const select = page.getByTestId('generation-settings').locator('select').first();
    await until('the trained model chosen in Generate', async () => (await select.inputValue()) === 'synthetic-presenter', 10_000);
    await page.getByTestId('steps').fill('2');
    await page.getByTestId('generate-preview').click();
    await page.locator('[data-testid="preview-state"][data-state="done"]').waitFor({ timeout: 240_000 });
    await page.getByTestId('preview-video').waitFor();
    const jobs = await rpc<JobView[]>('jobs.list');
    const preview = jobs.filter((j) => j.kind === 'preview' && !j.title.startsWith('Compare')).pop()!;
    assert.equal(preview.state, 'done');
    assert.equal((preview.params as { settings: { model: string } }).settings.model, 'synthetic-presenter');
    assert.match((preview.params as { modelPath: string }).modelPath, /synthetic-presenter$/);
    await shot(page, 'training-9-generate-with-model');
    await page.getByTestId('nav-settings').click();
    await page.getByText('synthetic-presenter').first().waitFor({ timeout: 10_000 });
  });

  it('an SFT whose engine is killed, and whose host restarts, resumes from its checkpoint', async () => {
    const s = await rpc<TrainingSession>('training.create', { name: 'Crash test', model: TINY_RANDOM_NAME });
    for (const f of clips.good) await rpc('training.addClip', { id: s.id, path: f });
    const presets = await rpc<{ id: string; sft: Record<string, unknown> }[]>('training.presets', { model: TINY_RANDOM_NAME });
    const sft = presets.find((p) => p.id === 'cpu')!.sft;
    const { jobId } = await rpc<{ jobId: string }>('training.start', { id: s.id, stage: 'sft', settings: { ...sft, steps: 80, checkpointEvery: 3 } });
    const job = () => rpc<JobView>('jobs.get', { id: jobId });
    await until('SFT past step 6', async () => ((await job()).progress?.done ?? 0) >= 6, 180_000);
    const pid = await until('the engine pid', async () => (await rpc<DeviceInfo>('device.info')).engine.pid, 10_000);
    process.kill(pid, 'SIGKILL');
    await until('the job running again after the engine died', async () => {
      const j = await job();
      return j.recoveries >= 1 && j.state === 'running' && (j.progress?.done ?? 0) > 0;
    }, 120_000);
    // Then the whole app restarts mid-run: the queued job continues after the restart.
    await host!.stop();
    host = await startHost({ dataDir: path.join(dataDir, 'data'), port, token });
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.evaluate(`localStorage.setItem('refree.training', JSON.stringify({ id: ${JSON.stringify(s.id)}, step: 'sft' }))`);
    await page.reload();
    await openTraining();
    await page.getByTestId('step-sft').waitFor();
    await page.getByTestId('sft-chart-loss').waitFor({ timeout: 60_000 });
    await shot(page, 'training-10-resumed-after-restart');
    // Pause from the wizard: it stops at a checkpoint; Resume carries on from it.
    await waitStageState(page, 'sft', 'Running', 60_000);
    await page.getByTestId('sft-pause').click();
    await waitStageState(page, 'sft', 'Paused', 60_000);
    await shot(page, 'training-11-paused');
    await page.getByTestId('sft-resume').click();
    await waitStageState(page, 'sft', 'Done', 300_000);
    const done = await job();
    assert.equal(done.state, 'done', JSON.stringify(done.history));
    assert.ok(done.recoveries >= 1);
    assert.ok(done.history.some((h) => /resum|checkpoint/i.test(h.message)), JSON.stringify(done.history));
    const m = await rpc<TrainingMetrics>('training.metrics', { id: s.id, stage: 'sft' });
    assert.deepEqual(m.rows.map((r) => r.step), Array.from({ length: 80 }, (_, i) => i + 1), 'each step once: resumed, not restarted');
    assert.ok((await chartPoints(page, 'sft-chart-loss')) >= 80);
    assert.ok(done.history.some((h) => /paused/i.test(h.message)), 'the pause is in the history');
    assert.deepEqual(pageErrors, []);
  });
});
