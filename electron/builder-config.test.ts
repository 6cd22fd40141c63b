// The packaging config is checked against electron-builder's own schema (packaging itself needs the
// Electron binary and network), and the requirements of issue 5 are asserted on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(s: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration(c: unknown, log: unknown): Promise<void> };
const { DebugLogger } = require('builder-util/out/DebugLogger') as { DebugLogger: new (enabled: boolean) => unknown };

interface Config {
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}

const config = yaml.load(readFileSync(new URL('../build/electron-builder.yml', import.meta.url), 'utf8')) as Config;

test('electron-builder.yml passes electron-builder validation', async () => {
  await validateConfiguration(config, new DebugLogger(false));
  // …and that validation does reject a wrong config, so the pass above means something.
  await assert.rejects(validateConfiguration({ ...config, electronFuses: { runAsNode: 'no' } }, new DebugLogger(false)));
});

test('targets, unpacked natives and ffmpeg, and fuses are as issue 5 asks', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  for (const m of ['onnxruntime-node', 'sharp', '@ffmpeg-installer', '@ffprobe-installer']) assert.ok(config.asarUnpack.some((g) => g.includes(m)), `${m} is unpacked`);
  const f = config.electronFuses;
  assert.equal(f.runAsNode, false);
  assert.equal(f.enableNodeOptionsEnvironmentVariable, false);
  assert.equal(f.enableNodeCliInspectArguments, false);
  assert.equal(f.onlyLoadAppFromAsar, true);
  assert.equal(f.enableEmbeddedAsarIntegrityValidation, true);
});
