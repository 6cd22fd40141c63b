// Reads a synthetic clip's truth file (engine/synth/types.ts, a ClipTruth) with checks that name the
// file and the field, and finds the truth video beside it (<name>.mp4 next to <name>.json).
import { existsSync, readFileSync } from 'node:fs';
import type { ClipTruth } from '../synth/types.js';
import { CLIP_TRUTH_FORMAT } from '../synth/types.js';
import { EvalError } from './errors.js';

const SERIES = ['mouthOpen', 'mouthWidth', 'mouthRound', 'brow', 'headYaw', 'headPitch', 'headRoll', 'blink', 'envelope'] as const;

export function readTruth(file: string): ClipTruth {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EvalError('bad-truth', `cannot read the truth file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let j: Partial<ClipTruth>;
  try {
    j = JSON.parse(text) as Partial<ClipTruth>;
  } catch (e) {
    throw new EvalError('bad-truth', `the truth file ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (j?.format !== CLIP_TRUTH_FORMAT) throw new EvalError('bad-truth', `${file} is not a synthetic clip's truth file: its "format" is ${JSON.stringify(j?.format)}, expected "${CLIP_TRUTH_FORMAT}"`);
  if (!(Number.isInteger(j.frames) && j.frames! > 0)) throw new EvalError('bad-truth', `${file}: "frames" must be a positive whole number, got ${JSON.stringify(j.frames)}`);
  if (!(typeof j.fps === 'number' && j.fps > 0)) throw new EvalError('bad-truth', `${file}: "fps" must be a positive number, got ${JSON.stringify(j.fps)}`);
  const pf = j.perFrame as Record<string, unknown> | undefined;
  if (!pf || typeof pf !== 'object') throw new EvalError('bad-truth', `${file}: "perFrame" is missing`);
  for (const k of SERIES) {
    const v = pf[k];
    if (!Array.isArray(v) || v.length !== j.frames || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new EvalError('bad-truth', `${file}: "perFrame.${k}" must be ${j.frames} numbers (one per frame)${Array.isArray(v) ? `, it has ${v.length} entries` : ''}`);
    }
  }
  return j as ClipTruth;
}

/** The rendered truth video beside a truth file, or null when there is none. */
export function truthVideoFor(truthFile: string): string | null {
  const mp4 = truthFile.replace(/\.json$/i, '') + '.mp4';
  return mp4 !== truthFile && existsSync(mp4) ? mp4 : null;
}
