// The web host as the e2e tests run it: a separate process (so a test can kill and restart it, as a
// person would), on a fixed port and token so the open page reconnects to the restarted host, with
// its data folder given by the test. Prints one JSON line when it listens.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StudioService } from '../../engine/service/service.js';
import { startWebHost } from '../../engine/web-host/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [dataDir, port, token] = [process.env.REFREE_E2E_DATA, Number(process.env.REFREE_E2E_PORT ?? 0), process.env.REFREE_E2E_TOKEN];
if (!dataDir) throw new Error('REFREE_E2E_DATA must name the data folder');

const service = await StudioService.create({ dataDir, assetsDir: path.join(root, 'assets') });
const host = await startWebHost({ service, port, staticDir: path.join(root, 'out', 'renderer'), ...(token ? { token } : {}) });
console.log(JSON.stringify({ listening: true, port: host.port, token: host.token, url: host.url }));

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await host.close();
  await service.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
