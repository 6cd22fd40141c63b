// `npm start`: the Electron app when its binary is installed, else the web host (`npm run serve`)
// with a one-line reason. Extra arguments go to whichever starts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './electron-binary.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, argv) {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { cwd: root, stdio: 'inherit' });
    // Pass Ctrl+C / a service stop on, so the app or the web host shuts down cleanly (the queue keeps
    // a running job's checkpoints for next time).
    const forward = (sig) => c.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    c.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const found = findElectronBinary();
if (!existsSync(new URL('../out/renderer/index.html', import.meta.url))) {
  const code = await run(npm, ['run', 'build:renderer']);
  if (code !== 0) process.exit(code);
}
if (found.path) {
  const code = await run(process.execPath, ['electron/build.mjs']);
  if (code !== 0) process.exit(code);
  process.exit(await run(found.path, ['out/electron/main.js', ...args]));
} else {
  console.log(`Starting the web host instead of the desktop app: ${found.reason}.`);
  process.exit(await run(npm, ['run', 'serve', '--', ...args]));
}
