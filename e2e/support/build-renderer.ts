// The e2e tests serve the built renderer: build it first when it is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './studio-page.js';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function ensureRendererBuilt(): void {
  const index = path.join(ROOT, 'out', 'renderer', 'index.html');
  let built = 0;
  try {
    built = statSync(index).mtimeMs;
  } catch {
    /* not built */
  }
  if (built && built >= newest(path.join(ROOT, 'renderer'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the renderer (vite build) failed');
}
