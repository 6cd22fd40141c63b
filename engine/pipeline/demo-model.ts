// The built-in model "refree-mini" (DESIGN 5): a small ReFree-S2V trained by refree's own trainer on
// the synthetic talking-face world, shipped in the repository as an ordinary model package
// (assets/models/refree-mini/: refree.json + safetensors + generation.json; its model card is the
// README.md beside them). `refree generate` without --model, `npm run demo` and the studio's default
// all use it, so a fresh clone makes a video with no download. The sample avatar and speech in
// assets/demo/ are an identity and a voice that its training never saw.
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE } from '../model/package/manifest.js';

export const DEMO_MODEL_NAME = 'refree-mini';

const here = path.dirname(fileURLToPath(import.meta.url));
const ASSETS_DIR = path.resolve(here, '..', '..', 'assets');
export const ASSETS_DEMO_DIR = path.join(ASSETS_DIR, 'demo');
/** Where the built-in model's package folder ships. */
export const BUILT_IN_MODEL_DIR = path.join(ASSETS_DIR, 'models', DEMO_MODEL_NAME);

/** Cache root: $REFREE_CACHE_DIR, else ~/.cache/refree (XDG_CACHE_HOME honoured). */
export function cacheRoot(): string {
  if (process.env.REFREE_CACHE_DIR) return path.resolve(process.env.REFREE_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? path.resolve(xdg) : path.join(os.homedir(), '.cache'), 'refree');
}

export class BuiltInModelMissingError extends Error {
  override name = 'BuiltInModelMissingError';
}

/**
 * The built-in model's package folder, after checking that its manifest is there (the weights are
 * checked when the package is opened). `dir` is for tests and hosts that ship the package elsewhere.
 */
export async function builtInModelDir(dir: string = BUILT_IN_MODEL_DIR): Promise<string> {
  const manifest = path.join(dir, MANIFEST_FILE);
  if (!(await stat(manifest).then((s) => s.isFile(), () => false))) {
    throw new BuiltInModelMissingError(
      `the built-in model ${DEMO_MODEL_NAME} is missing from ${dir} (no ${MANIFEST_FILE} there): reinstall ReFree Studio, or in a clone of the repository restore it with \`git checkout assets/models/${DEMO_MODEL_NAME}\` or re-train it with \`npm run train:mini -- --install\`; or pass --model <package folder> to use another model`,
    );
  }
  return dir;
}
