// Page-level steps shared by the web and Electron end-to-end specs: the same clicks and checks drive
// the one renderer whichever host serves it. Only locators and Playwright's own waits: no DOM typings
// are needed here (the root tsconfig has no DOM lib).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
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
  await page.locator('[data-testid="preview-state"]:text-is("running"), [data-testid="preview-state"]:text-is("done")').first().waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="preview-state"]:text-is("done")').waitFor({ timeout: timeoutMs });
  await page.getByTestId('preview-video').waitFor();
}

export async function addExport(page: Page, label: string, output?: string): Promise<void> {
  await page.getByTestId('nav-queue').click();
  await page.getByTestId('wm-text').fill(label);
  await page.getByTestId('export-output').fill(output ?? '');
  const before = await page.getByTestId('job').count();
  await page.getByTestId('add-export').click();
  await page.getByTestId('job').nth(before).waitFor({ timeout: 30_000 });
}

export function jobRow(page: Page, id: string) {
  return page.locator(`[data-testid="job"][data-job-id="${id}"]`);
}

export async function waitJobState(page: Page, id: string, state: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="job"][data-job-id="${id}"][data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}
