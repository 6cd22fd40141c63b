// Page-level steps shared by the web and Electron end-to-end specs: the same clicks and checks drive
// the one renderer whichever host serves it. Only locators and Playwright's own waits: no DOM typings
// are needed here (the root tsconfig has no DOM lib).
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');
export const AVATAR = path.join(ROOT, 'assets', 'demo', 'avatar.png');
export const SPEECH = path.join(ROOT, 'assets', 'demo', 'speech.wav');

export async function shot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function importMedia(page: Page, avatar = AVATAR, speech = SPEECH): Promise<void> {
  await page.getByTestId('nav-project').click();
  await page.getByTestId('portrait-path').fill(avatar);
  await page.getByTestId('portrait-import').click();
  await page.getByTestId('face-box').waitFor({ timeout: 30_000 });
  await page.getByTestId('crop-preview').waitFor();
  await page.getByTestId('speech-path').fill(speech);
  await page.getByTestId('speech-import').click();
  // wavesurfer draws into a shadow root inside the container once the audio is decoded.
  await page.getByTestId('play-region').and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
}

export async function trimValues(page: Page): Promise<{ start: number; end: number }> {
  return { start: Number(await page.getByTestId('trim-in').inputValue()), end: Number(await page.getByTestId('trim-out').inputValue()) };
}

/** Seeks by clicking the waveform at a fraction of its width, then sets the trim edge with I or O. */
export async function trimAt(page: Page, fraction: number, key: 'i' | 'o'): Promise<void> {
  const wave = page.getByTestId('waveform');
  const box = await wave.boundingBox();
  assert.ok(box, 'the waveform has no box');
  await wave.click({ position: { x: box.width * fraction, y: box.height / 2 } });
  // Leave any input focused by the click's side effects: the keys are ignored inside inputs.
  await page.getByTestId('playhead').click();
  await page.keyboard.press(key);
}

export async function setSteps(page: Page, steps: number): Promise<void> {
  await page.getByTestId('nav-generate').click();
  await page.getByTestId('steps').fill(String(steps));
}

export async function generatePreview(page: Page, timeoutMs = 180_000): Promise<void> {
  await page.getByTestId('nav-generate').click();
  await page.getByTestId('generate-preview').click();
  await page.locator('[data-testid="preview-state"][data-state="running"], [data-testid="preview-state"][data-state="done"]').first().waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="preview-state"][data-state="done"]').waitFor({ timeout: timeoutMs });
  await page.getByTestId('preview-video').waitFor();
}

/** Queues an export from the Generate screen's Export panel, then waits for its row in the queue. */
export async function addExport(page: Page, label: string, output?: string): Promise<void> {
  await page.getByTestId('nav-queue').click();
  const before = await page.getByTestId('job').count();
  await page.getByTestId('nav-generate').click();
  await page.getByTestId('export-summary').waitFor({ timeout: 30_000 });
  await page.getByTestId('export-wm-text').fill(label);
  if (output) await page.getByTestId('export-file').fill(output);
  await page.getByTestId('export-now').click();
  await page.getByTestId('export-queued').waitFor({ timeout: 30_000 });
  await page.getByTestId('nav-queue').click();
  await page.getByTestId('job').nth(before).waitFor({ timeout: 30_000 });
}

/** Page-side code that builds a DataTransfer holding the file (the spec's tsconfig has no DOM types, so it is a string). */
async function dataTransferScript(file: string, mime: string): Promise<string> {
  const b64 = (await readFile(file)).toString('base64');
  return `(() => { const bin = atob(${JSON.stringify(b64)}); const u8 = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      const dt = new DataTransfer(); dt.items.add(new File([u8], ${JSON.stringify(path.basename(file))}, { type: ${JSON.stringify(mime)} })); return dt; })()`;
}

async function fileHandle(page: Page, file: string, mime: string) {
  return page.evaluateHandle(await dataTransferScript(file, mime));
}

/** Drops a file on a drop zone as a person dragging it from the desktop would. */
export async function dropFile(page: Page, testId: string, file: string, mime: string): Promise<void> {
  const dataTransfer = await fileHandle(page, file, mime);
  await page.dispatchEvent(`[data-testid="${testId}"]`, 'dragover', { dataTransfer });
  await page.dispatchEvent(`[data-testid="${testId}"]`, 'drop', { dataTransfer });
}

/** Pastes a file onto the page (Ctrl/Cmd+V of a copied file or picture). */
export async function pasteFile(page: Page, file: string, mime: string): Promise<void> {
  // A real ClipboardEvent carrying the file, as the browser fires for Ctrl/Cmd+V.
  await page.evaluate(`document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: ${await dataTransferScript(file, mime)}, bubbles: true, cancelable: true }))`);
}

/** Chooses a file with the picker ("Choose a file…" opens the browser's file chooser). */
export async function chooseFile(page: Page, testId: string, file: string): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId(`${testId}-choose`).click();
  await (await chooser).setFiles(file);
}

/**
 * Screenshots of the current screen in both themes: <name>-dark.png and <name>-light.png, plus
 * <name>.png (dark, the default look) for `npm run screenshots`. The theme is put back afterwards.
 */
export async function shotBothThemes(page: Page, name: string): Promise<void> {
  const was = await page.evaluate('document.documentElement.dataset.theme');
  for (const theme of ['dark', 'light']) {
    await page.evaluate(`document.documentElement.dataset.theme = ${JSON.stringify(theme)}`);
    await page.waitForTimeout(100);
    await shot(page, `${name}-${theme}`);
    if (theme === 'dark') await shot(page, name);
  }
  await page.evaluate(`document.documentElement.dataset.theme = ${JSON.stringify(was ?? 'dark')}`);
}

export function jobRow(page: Page, id: string) {
  return page.locator(`[data-testid="job"][data-job-id="${id}"]`);
}

export async function waitJobState(page: Page, id: string, state: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="job"][data-job-id="${id}"][data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}
