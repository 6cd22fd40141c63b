// Finds the Electron binary WITHOUT requiring the `electron` package: its index.js tries to download
// the binary when it is missing (from outside the npm registry), which must never happen from
// `npm start` or the e2e tests. Returns {path} or {reason} (one line for people).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('../node_modules/electron/', import.meta.url));

export function findElectronBinary() {
  if (!existsSync(pkgDir)) return { reason: 'the electron package is not installed' };
  const pathFile = path.join(pkgDir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = path.join(override, rel || 'electron');
    return existsSync(p) ? { path: p } : { reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${p} does not exist` };
  }
  if (!rel) return { reason: 'the Electron binary is not installed (its download runs outside the npm registry and was skipped; see docs or set ELECTRON_OVERRIDE_DIST_PATH)' };
  const p = path.join(pkgDir, 'dist', rel);
  return existsSync(p) ? { path: p } : { reason: `the Electron binary is missing at ${p}` };
}
