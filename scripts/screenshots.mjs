// Refreshes the screenshots in docs/screenshots/ from the ones the web e2e spec last took
// (e2e/artifacts/, git-ignored). A separate step so that running the tests never rewrites tracked
// files: run `npm run test:e2e`, look at e2e/artifacts/, then `npm run screenshots` and commit.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(root, 'e2e', 'artifacts');
const to = path.join(root, 'docs', 'screenshots');
// Every screen in both themes, and each step of the training wizard.
const screens = ['start', 'project', 'generate', 'export', 'queue', 'settings', 'training'];
const names = [...screens.flatMap((n) => [`${n}-dark`, `${n}-light`])];
const steps = existsSync(from) ? readdirSync(from).filter((f) => /^training-\d+[a-z]?-[a-z0-9-]+\.png$/.test(f)).map((f) => f.slice(0, -4)) : [];

const missing = names.filter((n) => !existsSync(path.join(from, `${n}.png`)));
if (missing.length > 0) {
  console.error(`screenshots: ${missing.map((n) => `e2e/artifacts/${n}.png`).join(', ')} not found; run \`npm run test:e2e\` first (it writes them)`);
  process.exit(1);
}
mkdirSync(to, { recursive: true });
for (const n of [...names, ...steps]) copyFileSync(path.join(from, `${n}.png`), path.join(to, `${n}.png`));
console.log(`screenshots: copied ${names.length + steps.length} screenshots from e2e/artifacts/ to docs/screenshots/`);
