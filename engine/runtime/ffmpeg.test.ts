// ffmpeg/ffprobe resolution with the real binaries on this machine (the npm package's and the
// system's), plus a real encode and probe to show the resolved pair works together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegPath, ffprobePath, probeTool, resolveTool } from './ffmpeg.js';

const envWithout = (...keys: string[]): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of keys) delete env[k];
  return env;
};

test('default order finds a working ffmpeg and ffprobe, saying where from', () => {
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    const r = resolveTool(tool, { env: envWithout('FFMPEG_PATH', 'FFPROBE_PATH') });
    assert.ok(r.path, `${tool}: ${r.advice}`);
    assert.ok(r.source === 'package' || r.source === 'system', `${tool} from ${r.source}`);
    assert.ok(r.version && r.version.length > 0);
    // The package is consulted before the system; if the system won, the package's reason is recorded.
    if (r.source === 'system') assert.match(r.tried[0]!, /^package: /);
  }
});

test('FFMPEG_PATH overrides the package; a broken override is an error, not a silent fallback', () => {
  const system = resolveTool('ffmpeg', { sources: ['system'] });
  assert.ok(system.path, 'a system ffmpeg exists on this machine');
  const r = resolveTool('ffmpeg', { env: { ...process.env, FFMPEG_PATH: system.path } });
  assert.equal(r.source, 'env');
  assert.equal(r.sourceLabel, 'FFMPEG_PATH');
  assert.equal(r.path, system.path);
  const bad = resolveTool('ffmpeg', { env: { ...process.env, FFMPEG_PATH: '/nonexistent/ffmpeg' } });
  assert.equal(bad.path, null);
  assert.match(bad.advice!, /FFMPEG_PATH is set to \/nonexistent\/ffmpeg, which is not a working ffmpeg/);
  assert.match(bad.tried[0]!, /does not exist/);
});

test('the system PATH is the last resort; none anywhere gives advice', () => {
  const onlySystem = resolveTool('ffprobe', { sources: ['system'] });
  assert.equal(onlySystem.source, 'system');
  assert.equal(onlySystem.sourceLabel, 'system PATH');
  const none = resolveTool('ffmpeg', { env: { PATH: '' }, sources: ['env', 'system'] });
  assert.equal(none.path, null);
  assert.deepEqual(none.tried, ['system: no ffmpeg on PATH']);
  assert.match(none.advice!, /ffmpeg not found: run `npm ci`.*FFMPEG_PATH.*apt install ffmpeg/);
});

test('a binary without the execute bit is rejected with the fix', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-ff-'));
  const copy = path.join(dir, 'ffmpeg');
  copyFileSync(resolveTool('ffmpeg', { sources: ['system'] }).path!, copy);
  chmodSync(copy, 0o644);
  const r = probeTool(copy);
  assert.ok('problem' in r && /not executable .*chmod \+x/.test(r.problem));
  chmodSync(copy, 0o755);
  assert.ok('version' in probeTool(copy));
  const notBinary = path.join(dir, 'fake');
  writeFileSync(notBinary, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  const f = probeTool(notBinary);
  assert.ok('problem' in f && /-version failed/.test(f.problem));
});

test('the resolved ffmpeg encodes a clip that the resolved ffprobe reads back', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-ff-'));
  const out = path.join(dir, 'clip.mp4');
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=32x32:r=15:d=0.4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', out], { timeout: 15_000 });
  const info = JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-show_streams', '-of', 'json', out], { timeout: 15_000 }).toString()) as { streams: { width: number; height: number; codec_name: string; nb_frames: string }[] };
  const s = info.streams[0]!;
  assert.equal(s.codec_name, 'h264');
  assert.deepEqual([s.width, s.height], [32, 32]);
  assert.equal(Number(s.nb_frames), 6);
});
