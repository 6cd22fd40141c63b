// End-to-end, web host in Debian's Chromium with a fake microphone (Chromium's fake capture device
// plays a beep; the fake UI grants getUserMedia without a prompt): Record, ~1.5 s, Stop → the take is
// uploaded through media.upload, converted to WAV with its duration, and becomes the project's speech
// (waveform ready, trim set to the whole take). Also the other half of the media work: a portrait with
// no face gets media.suggestCrop's centred box and its warning under the crop.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { chromiumMissing, FAKE_MEDIA_ARGS, launchChromium } from './support/browser.js';
import { ensureRendererBuilt } from './support/build-renderer.js';
import type { RunningHost } from './support/host-process.js';
import { freePort, startHost } from './support/host-process.js';
import { shot, trimValues } from './support/studio-page.js';

const skip = chromiumMissing();
if (skip) console.log(`microphone e2e skipped: ${skip}`);

describe('recording the speech with a (fake) microphone in the web host', { skip: skip ?? false, timeout: 5 * 60_000 }, () => {
  let dataDir = '';
  let host: RunningHost | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ensureRendererBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'refree-e2e-mic-'));
    const port = await freePort();
    const token = 'e2e-mic-token-0123456789abcdef';
    host = await startHost({ dataDir, port, token });
    browser = await launchChromium(FAKE_MEDIA_ARGS);
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

  it('Record, Stop: the take becomes the speech with its waveform and duration', async () => {
    await page.getByTestId('nav-project').click();
    await page.getByTestId('record-start').click();
    await page.getByTestId('record-stop').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1500);
    await page.getByTestId('record-stop').click();
    // Uploaded, converted and decoded by wavesurfer: the play button turns on.
    await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 60_000 });
    const trim = await trimValues(page);
    assert.equal(trim.start, 0);
    // About 1.5 s were recorded (plus the time the clicks took): the trim covers the whole take.
    assert.ok(trim.end >= 1.0 && trim.end <= 6, `the recording's duration is ${trim.end} s`);
    assert.match((await page.getByTestId('record-status').textContent()) ?? '', /Record the speech/);
    await shot(page, 'speech-recorded');
    assert.deepEqual(pageErrors, []);
  });

  it('a portrait without a face gets a centred crop and the warning', async () => {
    const grey = path.join(dataDir, 'grey-wall.png');
    await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(grey);
    await page.getByTestId('portrait-path').fill(grey);
    await page.getByTestId('portrait-import').click();
    await page.getByTestId('crop-warning').waitFor({ timeout: 30_000 });
    assert.match((await page.getByTestId('crop-warning').textContent()) ?? '', /^No face found in the portrait/);
    // The suggested box is the largest centred square: the picture's full height, centred across.
    const box = (await page.getByTestId('face-box').boundingBox())!;
    const img = (await page.getByTestId('portrait-image').boundingBox())!;
    assert.ok(Math.abs(box.height - img.height) < 3 && Math.abs(box.x + box.width / 2 - (img.x + img.width / 2)) < 3, JSON.stringify([box, img]));
    assert.deepEqual(pageErrors, []);
  });
});
