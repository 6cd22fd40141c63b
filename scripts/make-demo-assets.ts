// Regenerates the demo's sample inputs in assets/demo/ (the results are committed; run this only to
// change them). Both come from one clip of the synthetic world's held-out split, so `npm run demo`
// shows the built-in refree-mini a face, a voice and a sentence it never saw in training:
//   avatar.png  the clip's first frame, 256×256 (a drawn avatar: no real person);
//   speech.wav  the clip's speech, 16 kHz mono 16-bit.
// Usage: node --import tsx scripts/make-demo-assets.ts [--seed 200002] [--seconds 7]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegPath } from '../engine/runtime/ffmpeg.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const outDir = path.join(root, 'assets', 'demo');

/** The held-out clip the demo uses (seeds of the model's held-out evaluation start at 100000). */
export const DEMO_SEED = 200002;

export function makeDemoAssets(opts: { seed?: number; seconds?: number; out?: string } = {}): { avatar: string; speech: string } {
  const out = opts.out ?? outDir;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-demo-assets-'));
  try {
    const seed = opts.seed ?? DEMO_SEED;
    execFileSync(process.execPath, [path.join(root, 'bin', 'refree.mjs'), 'synth', '--out', tmp, '--count', '1', '--seed', String(seed), '--split', 'heldout', '--seconds', String(opts.seconds ?? 7), '--size', '256'], { stdio: 'ignore' });
    const clip = path.join(tmp, `synth-heldout-${seed}.mp4`);
    const avatar = path.join(out, 'avatar.png');
    const speech = path.join(out, 'speech.wav');
    execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-i', clip, '-frames:v', '1', avatar]);
    execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-i', clip, '-vn', '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', speech]);
    return { avatar, speech };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (n: string): number | undefined => {
    const i = process.argv.indexOf(`--${n}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const r = makeDemoAssets({ seed: flag('seed'), seconds: flag('seconds') });
  console.log(`wrote ${r.avatar} and ${r.speech}`);
}
