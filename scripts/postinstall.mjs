// Our own postinstall: runs the native-binary downloads that package.json's allowScripts denies to the
// packages themselves, on purpose, so that `npm ci` never fails on a machine that reaches only the npm
// registry. Each download is tried with a time limit; a failure prints one line and the install goes on.
//   - electron: its install.js downloads the Electron binary. Without it `npm start` uses the web host.
//   - onnxruntime-node: its script/install downloads the CUDA provider libraries (linux-x64).
//     Without them the engine falls back to WebGPU or CPU and `refree doctor` says why.
// Set REFREE_SKIP_DOWNLOADS=1 to skip both (CI does).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const skip = process.env.REFREE_SKIP_DOWNLOADS === '1' || process.env.CI === 'true';

function packageDir(name) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function tryScript(label, dir, script, env, check) {
  if (!dir || !existsSync(path.join(dir, script))) {
    console.log(`[refree] ${label}: package not installed, skipped`);
    return;
  }
  if (skip) {
    console.log(`[refree] ${label}: download skipped (REFREE_SKIP_DOWNLOADS=1 or CI)`);
    return;
  }
  const r = spawnSync(process.execPath, [script], { cwd: dir, env: { ...process.env, ...env }, stdio: 'pipe', timeout: 180_000 });
  if (r.status === 0) console.log(`[refree] ${label}: ${check ? check() : 'ok'}`);
  else {
    const lines = (r.stderr?.toString() ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    const why = (r.error?.message ?? lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit ${r.status}`).slice(0, 200);
    console.log(`[refree] ${label}: not available (${why}); the app works without it, see README "Offline installs"`);
  }
}

// The ffmpeg/ffprobe packages ship their binaries inside the npm tarball; their only install step is a
// chmod, which allowScripts skips. Doing it here is safe and needs no network.
for (const name of ['@ffmpeg-installer/linux-x64/ffmpeg', '@ffprobe-installer/linux-x64/ffprobe']) {
  const dir = packageDir(path.dirname(name));
  const bin = dir && path.join(dir, path.basename(name));
  if (bin && existsSync(bin)) chmodSync(bin, 0o755);
}

tryScript('Electron binary', packageDir('electron'), 'install.js', { ELECTRON_SKIP_BINARY_DOWNLOAD: '' });
const ortDir = packageDir('onnxruntime-node');
tryScript('onnxruntime CUDA libraries', ortDir, 'script/install.js', {}, () => {
  const lib = path.join(ortDir, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  return existsSync(lib) ? 'installed' : 'not installed (no CUDA found on this machine); CPU and WebGPU work without it';
});
