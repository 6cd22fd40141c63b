// `npm run bench -- <name> [--json] [...]`: runs one benchmark module from bench/<name>.ts.
// Each module exports `run(args)`; it prints a readable table, or one JSON line with --json.
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.endsWith('.test.ts') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [--json]`);
  process.exit(name ? 2 : 0);
}
const file = path.join(here, `${name}.ts`);
if (!existsSync(file)) throw new Error(`no benchmark ${file}`);
const mod = (await import(pathToFileURL(file).href)) as { run: (args: string[]) => Promise<void> };
await mod.run(args);
