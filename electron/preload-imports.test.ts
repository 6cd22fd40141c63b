// The preload stays small: at run time it imports only electron and the IPC channel map, and the map
// imports the contract for types only — so the bundle carries neither zod nor the schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const runtimeImports = (file: string): string[] =>
  [...readFileSync(new URL(file, import.meta.url), 'utf8').matchAll(/^import\s+(?!type\b)[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

test('preload.ts imports only electron and ./ipc-channels.js at run time; the channel map imports nothing at run time', () => {
  assert.deepEqual(runtimeImports('./preload.ts').sort(), ['./ipc-channels.js', 'electron']);
  assert.deepEqual(runtimeImports('./ipc-channels.ts'), []);
});
