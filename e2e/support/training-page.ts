// Page steps and test clips for the training wizard's end-to-end spec. The clips are real videos: the
// synthetic talking faces of engine/synth (the trainer's own test world), a test pattern with a tone
// (no face) and a synthetic face whose sound is replaced by silence (no speech).
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { runFfmpeg } from '../../engine/media/ffmpeg-run.js';
import { writeClip } from '../../engine/synth/clip.js';

export interface TrainingClips {
  good: string[];
  heldOut: string;
  noFace: string;
  noSpeech: string;
}

export async function makeTrainingClips(dir: string, count = 3): Promise<TrainingClips> {
  const good: string[] = [];
  for (let i = 0; i < count; i++) good.push((await writeClip(dir, `talking-${i + 1}`, { seed: 40 + i, split: 'train', seconds: 1.4, size: 128 })).video);
  const heldOut = (await writeClip(dir, 'held-out', { seed: 7, split: 'heldout', seconds: 1.4, size: 128 })).video;
  const noFace = path.join(dir, 'test-pattern.mp4');
  const a = await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=128x128:rate=15:duration=1.5', '-f', 'lavfi', '-i', 'sine=frequency=220:duration=1.5', '-shortest', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', noFace]);
  assert.equal(a.code, 0, a.stderr);
  const noSpeech = path.join(dir, 'silent-take.mp4');
  const b = await runFfmpeg(['-v', 'error', '-y', '-i', good[0]!, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-map', '0:v', '-map', '1:a', '-shortest', '-c:v', 'copy', '-c:a', 'aac', noSpeech]);
  assert.equal(b.code, 0, b.stderr);
  return { good, heldOut, noFace, noSpeech };
}

export function clipCard(page: Page, name: string) {
  return page.locator(`[data-testid="clip"][data-clip="${name}"]`);
}

/** How many points the chart holds now (the chart writes it as data-points). */
export async function chartPoints(page: Page, testId: string): Promise<number> {
  const v = await page.getByTestId(testId).getAttribute('data-points', { timeout: 1000 }).catch(() => null);
  return v === null ? 0 : Number(v);
}

/** Waits until the chart has at least `n` points. */
export async function waitChartPoints(page: Page, testId: string, n: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const have = await chartPoints(page, testId);
    if (have >= n) return have;
    if (Date.now() > end) throw new Error(`the chart ${testId} has ${have} points after ${timeoutMs / 1000} s; expected at least ${n}`);
    await page.waitForTimeout(250);
  }
}

/** Opens the folded advanced settings of a stage and fills fields by key. */
export async function fillStage(page: Page, stage: 'sft' | 'dpo', values: Record<string, string>): Promise<void> {
  const panel = page.getByTestId(`step-${stage}`);
  const details = panel.locator('details').first();
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  for (const [k, v] of Object.entries(values)) await page.getByTestId(`${stage}-${k}`).fill(v);
}

export async function waitStageState(page: Page, stage: 'sft' | 'dpo', label: string, timeoutMs: number): Promise<void> {
  await page.locator(`[data-testid="${stage}-state"]`, { hasText: label }).waitFor({ timeout: timeoutMs });
}
