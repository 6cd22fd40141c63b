// Where the LoRA SFT stage finds the trainer: the first engine/train/*.ts that exports
// `buildSftStepGraph`. Run from source this file scans the folder at run time; the packed bundle
// replaces it at build time (pack.ts) with a static import of the same file, or with "none" when the
// build has no trainer, so the bundle works without the sources.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TRAINER_EXPORT = 'buildSftStepGraph';

/** The engine/train source file exporting the builder, or null. */
export function findTrainerFile(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const re = new RegExp(`export\\s+(async\\s+)?(function|const|let)\\s+${TRAINER_EXPORT}\\b|export\\s*\\{[^}]*\\b${TRAINER_EXPORT}\\b`);
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts') || f.endsWith('.d.ts')) continue;
    const file = path.join(dir, f);
    if (re.test(readFileSync(file, 'utf8'))) return file;
  }
  return null;
}

export const TRAIN_DIR = fileURLToPath(new URL('../../engine/train/', import.meta.url));

export async function loadTrainerModule(): Promise<{ module: Record<string, unknown> | null; file: string | null }> {
  const file = findTrainerFile(TRAIN_DIR);
  if (!file) return { module: null, file: null };
  return { module: (await import(pathToFileURL(file).href)) as Record<string, unknown>, file: path.relative(path.join(TRAIN_DIR, '..', '..'), file) };
}
