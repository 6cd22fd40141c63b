// `npm run demo`: generates a talking-head video with the built-in trained model refree-mini
// (assets/models/refree-mini/, its model card is the README.md there) from the bundled sample avatar
// and speech (assets/demo/), an identity and a voice that its training never saw, and prints the
// output path.
// Options: --out <file> (default out/demo.mp4), --seed <n>, --json.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../engine/cli/main.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = path.resolve(flag('out') ?? path.join(root, 'out', 'demo.mp4'));
mkdirSync(path.dirname(out), { recursive: true });
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
const argv = ['generate', '--portrait', path.join(root, 'assets', 'demo', 'avatar.png'), '--audio', path.join(root, 'assets', 'demo', 'speech.wav'), '--out', out, '--seed', flag('seed') ?? '0'];
if (args.includes('--json')) argv.push('--json');
process.exitCode = await main(argv, undefined, controller.signal);
