// Synthetic clips carry their truth (`<name>.json`, engine/synth/types.ts) beside the video: their masks
// come from the truth's lip and face ellipses rather than from landmarks, mapped from the rendered
// frame's pixels through the crop into the training frame.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClipTruth, Ellipse } from '../../synth/types.js';
import { CLIP_TRUTH_FORMAT } from '../../synth/types.js';
import type { CropBox } from './types.js';

/** The truth file beside `video`, or null when there is none; `problem` when one exists but is unusable. */
export async function readTruthBeside(video: string): Promise<{ truth: ClipTruth; file: string } | { problem: string; file: string } | null> {
  const file = path.join(path.dirname(video), `${path.basename(video, path.extname(video))}.json`);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  let j: Partial<ClipTruth>;
  try {
    j = JSON.parse(text) as Partial<ClipTruth>;
  } catch {
    return { problem: `${file} is not valid JSON; its masks come from face landmarks instead`, file };
  }
  if (j.format !== CLIP_TRUTH_FORMAT) return null; // some other JSON beside the clip: not ours
  const pf = j.perFrame;
  const ok = typeof j.size === 'number' && j.size > 0 && typeof j.fps === 'number' && j.fps > 0 && Array.isArray(pf?.lips) && Array.isArray(pf?.face) && pf.lips.length > 0 && pf.lips.length === pf.face.length;
  if (!ok) return { problem: `${file} says ${CLIP_TRUTH_FORMAT} but lacks size, fps or per-frame lips/face ellipses; its masks come from face landmarks instead`, file };
  return { truth: j as ClipTruth, file };
}

/**
 * The truth's ellipse for training frame `frame` (at `fps`), in the pixels of the size × size crop of a
 * source frame sourceWidth × sourceHeight cut at `box`.
 */
export function truthEllipse(truth: ClipTruth, which: 'lips' | 'face', frame: number, fps: number, source: { width: number; height: number }, box: CropBox, size: number): Ellipse {
  const list = truth.perFrame[which];
  const t = Math.min(list.length - 1, Math.max(0, Math.round((frame * truth.fps) / fps)));
  const e = list[t]!;
  // Rendered frame → source pixels (the clip may have been re-encoded at another size) → crop pixels.
  const sx = source.width / truth.size;
  const sy = source.height / truth.size;
  const k = size / box.size;
  return { cx: (e.cx * sx - box.x) * k, cy: (e.cy * sy - box.y) * k, rx: e.rx * Math.sqrt(sx * sy) * k, ry: e.ry * Math.sqrt(sx * sy) * k, angle: e.angle };
}
