// Regenerates the demo's sample inputs in assets/demo/ (the results are committed; run this only to
// change them):
//   avatar.png  a synthetic 256×256 portrait drawn from SVG with sharp (a friendly cartoon face: it is
//               what the trained refree-mini will animate, and it is no real person);
//   speech.wav  a few seconds of speech from espeak-ng, resampled by sox to 16 kHz mono 16-bit.
// Usage: node --import tsx scripts/make-demo-assets.ts   (needs espeak-ng and sox on PATH)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '..', 'assets', 'demo');

export const SPEECH_TEXT = 'Hello! I am a ReFree demo avatar. Give me a portrait and some speech, and I will talk.';

export function avatarSvg(size = 256): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 256 256">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#8fb8de"/><stop offset="1" stop-color="#d8e6f3"/></linearGradient>
    <radialGradient id="skin" cx="0.45" cy="0.4" r="0.7"><stop offset="0" stop-color="#f6d2b5"/><stop offset="1" stop-color="#dca888"/></radialGradient>
  </defs>
  <rect width="256" height="256" fill="url(#bg)"/>
  <path d="M40 256 C48 206 88 188 128 188 C168 188 208 206 216 256 Z" fill="#3d5a80"/>
  <rect x="110" y="160" width="36" height="34" rx="10" fill="#dca888"/>
  <ellipse cx="128" cy="112" rx="62" ry="74" fill="url(#skin)"/>
  <path d="M64 104 C60 50 100 30 132 32 C170 34 198 60 192 106 C182 78 160 62 128 62 C98 62 76 76 64 104 Z" fill="#4a3226"/>
  <ellipse cx="66" cy="118" rx="8" ry="14" fill="#dca888"/>
  <ellipse cx="190" cy="118" rx="8" ry="14" fill="#dca888"/>
  <path d="M88 96 Q102 88 116 96" stroke="#4a3226" stroke-width="5" fill="none" stroke-linecap="round"/>
  <path d="M140 96 Q154 88 168 96" stroke="#4a3226" stroke-width="5" fill="none" stroke-linecap="round"/>
  <ellipse cx="102" cy="112" rx="11" ry="8" fill="#fff"/>
  <ellipse cx="154" cy="112" rx="11" ry="8" fill="#fff"/>
  <circle cx="103" cy="113" r="5" fill="#3b2a20"/>
  <circle cx="155" cy="113" r="5" fill="#3b2a20"/>
  <path d="M128 116 Q122 136 130 140" stroke="#c48b6c" stroke-width="3" fill="none" stroke-linecap="round"/>
  <path d="M108 154 Q128 166 148 154 Q128 174 108 154 Z" fill="#b5525b"/>
  <ellipse cx="90" cy="140" rx="10" ry="6" fill="#f0a8a0" opacity="0.5"/>
  <ellipse cx="166" cy="140" rx="10" ry="6" fill="#f0a8a0" opacity="0.5"/>
</svg>`;
}

export async function makeAvatar(file: string, size = 256): Promise<void> {
  await sharp(Buffer.from(avatarSvg(size))).png({ compressionLevel: 9 }).toFile(file);
}

export function makeSpeech(file: string, text = SPEECH_TEXT): void {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-speech-'));
  try {
    const raw = path.join(tmp, 'espeak.wav');
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
    execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', file, 'norm', '-3']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await makeAvatar(path.join(outDir, 'avatar.png'));
  makeSpeech(path.join(outDir, 'speech.wav'));
  console.log(`wrote ${path.join(outDir, 'avatar.png')} and ${path.join(outDir, 'speech.wav')}`);
}
