// The sample portrait and speech for the e2e specs: assets/demo's when present, otherwise made here
// (sharp draws a face, engine/media/testing/test-audio.ts makes speech-like audio), so the specs never
// depend on another step or on a system package.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { pcm16Wav, speechLike } from '../../engine/media/testing/test-audio.js';
import { AVATAR, SPEECH } from './studio-page.js';

const FACE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512">
<rect width="512" height="512" fill="#6b8bb0"/><ellipse cx="256" cy="250" rx="120" ry="150" fill="#f1c9a5"/>
<circle cx="210" cy="220" r="14" fill="#222"/><circle cx="302" cy="220" r="14" fill="#222"/>
<path d="M206 320 Q256 350 306 320" stroke="#a33" stroke-width="10" fill="none"/></svg>`;

export async function makeAvatar(file: string): Promise<string> {
  await sharp(Buffer.from(FACE_SVG)).png().toFile(file);
  return file;
}

export function makeSpeech(file: string): string {
  writeFileSync(file, pcm16Wav(speechLike(5, 16000), 16000));
  return file;
}

export async function sampleMedia(tmpDir: string): Promise<{ avatar: string; speech: string }> {
  return {
    avatar: existsSync(AVATAR) ? AVATAR : await makeAvatar(path.join(tmpDir, 'avatar.png')),
    speech: existsSync(SPEECH) ? SPEECH : makeSpeech(path.join(tmpDir, 'speech.wav')),
  };
}
