// `npm run serve -- [--port N] [--no-open] [--data DIR] [--renderer DIR] [--assets DIR]`
// The web host (DESIGN 10): the studio's renderer and service on http://127.0.0.1:N with a random
// token, the engine in a child process. Prints the address to open (with its token) on one line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StudioService } from '../engine/service/service.js';
import { startWebHost } from '../engine/web-host/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const HELP = `Usage: npm run serve -- [--port N] [--no-open] [--data DIR] [--renderer DIR] [--assets DIR]

Serves ReFree Studio in your browser at http://127.0.0.1:N/?token=… (loopback only).
  --port N        port to listen on (default: a free one)
  --no-open       do not open a browser
  --data DIR      projects, queue, settings, models (default: $REFREE_DATA_DIR or ~/.refree-studio)
  --renderer DIR  the built renderer (default: out/renderer)
  --assets DIR    shipped assets (default: assets/)`;

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => console.log(`(could not open a browser with ${cmd}; open the address above yourself)`));
    child.unref();
  } catch {
    console.log('(could not open a browser; open the address above yourself)');
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'no-open': { type: 'boolean', default: false },
        data: { type: 'string' },
        renderer: { type: 'string' },
        assets: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a whole number from 0 to 65535; got "${values.port}"`);
    process.exit(2);
  }
  const dataDir = path.resolve(values.data ?? process.env.REFREE_DATA_DIR ?? path.join(homedir(), '.refree-studio'));
  const rendererDir = path.resolve(values.renderer ?? path.join(ROOT, 'out', 'renderer'));
  const assetsDir = path.resolve(values.assets ?? path.join(ROOT, 'assets'));
  const staticDir = existsSync(path.join(rendererDir, 'index.html')) ? rendererDir : null;

  const service = await StudioService.create({ dataDir, assetsDir: existsSync(assetsDir) ? assetsDir : null });
  for (const p of service.queue.problems) console.log(`queue: ${p}`);
  let host;
  try {
    host = await startWebHost({ service, port, staticDir });
  } catch (e) {
    await service.close();
    const code = (e as NodeJS.ErrnoException).code;
    console.error(code === 'EADDRINUSE' ? `port ${port} is already in use; choose another with --port, or leave it out to pick a free one` : `the web host could not start: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(`ReFree Studio: ${host.url}`);
  if (!staticDir) console.log(`(the renderer is not built: ${rendererDir} has no index.html; the API still answers)`);
  console.log(`data: ${dataDir}`);
  if (!values['no-open']) openBrowser(host.url);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: stopping (a running job is kept in the queue and resumes next time)`);
    void host
      .close()
      .then(() => service.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(`error while stopping: ${(e as Error).message}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(`npm run serve failed: ${(e as Error).message}`);
  process.exit(1);
});
