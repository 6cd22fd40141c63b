// "Is this output one of the inputs?" — asked before any command or job writes a file, so that a
// mistyped --out (or an export aimed at the project's own speech file) cannot overwrite what it reads.
// Two paths name the same file when they resolve to the same place, or when both exist and share a
// device and inode (a symlink, a hard link, a case-insensitive file system, `./a/../a`).
import { statSync } from 'node:fs';
import path from 'node:path';

export function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return !!sa && !!sb && sa.ino !== 0 && sa.dev === sb.dev && sa.ino === sb.ino;
}

export class OutputIsInputError extends Error {
  override name = 'OutputIsInputError';
}

/**
 * Throws OutputIsInputError when `output` is one of `inputs` (`[label, path]` pairs). The message
 * names the option that holds the input, so the person knows which of the two to change.
 */
export function refuseOutputOverInput(output: string, inputs: readonly (readonly [label: string, file: string | null | undefined])[], outputLabel = 'the output'): void {
  for (const [label, file] of inputs) {
    if (file && sameFile(output, file)) {
      throw new OutputIsInputError(`${outputLabel} (${output}) is the same file as ${label}; writing it would destroy the input. Choose another output file.`);
    }
  }
}
