// ffmpeg/ffprobe resolution: the npm package's real binaries, and "system" binaries that each test
// builds in a temp folder (small scripts that hand over to the package's binaries), so the system
// order, the overrides and the broken cases are tested without a system ffmpeg. Plus a real encode and
// probe to show the resolved pair works together.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MediaTool } from './ffmpeg.js';
import { ffmpegPath, ffprobePath, probeTool, resolveTool } from './ffmpeg.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'refree-ff-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const envWithout = (...keys: string[]): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of keys) delete env[k];
  return env;
};

/** The package's binary for `tool` (the tests below need it; npm ci installs it). */
function packageBinary(tool: MediaTool): string {
  const r = resolveTool(tool, { sources: ['package'] });
  assert.ok(r.path, `${tool} from its npm package: ${r.tried.join('; ')}`);
  return r.path;
}

/** A folder with a fake "system" ffmpeg and ffprobe: scripts that run the package's binaries. */
function fakeSystemDir(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    writeFileSync(path.join(dir, tool), `#!/bin/sh\nexec '${packageBinary(tool)}' "$@"\n`, { mode: 0o755 });
  }
  return dir;
}

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

test('a system binary on PATH is found when it is the only source, with its version', () => {
  const dir = fakeSystemDir('system');
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    const r = resolveTool(tool, { env: { PATH: `/nonexistent-dir${path.delimiter}${dir}` }, sources: ['env', 'system'] });
    assert.equal(r.source, 'system');
    assert.equal(r.sourceLabel, 'system PATH');
    assert.equal(r.path, path.join(dir, tool));
    assert.equal(r.version, resolveTool(tool, { sources: ['package'] }).version);
  }
});

test('FFMPEG_PATH overrides the package; a broken override is an error, not a silent fallback', () => {
  const fake = path.join(fakeSystemDir('override'), 'ffmpeg');
  const r = resolveTool('ffmpeg', { env: { ...process.env, FFMPEG_PATH: fake } });
  assert.equal(r.source, 'env');
  assert.equal(r.sourceLabel, 'FFMPEG_PATH');
  assert.equal(r.path, fake);
  const bad = resolveTool('ffmpeg', { env: { ...process.env, FFMPEG_PATH: '/nonexistent/ffmpeg' } });
  assert.equal(bad.path, null);
  assert.match(bad.advice!, /FFMPEG_PATH is set to \/nonexistent\/ffmpeg, which is not a working ffmpeg/);
  assert.match(bad.tried[0]!, /does not exist/);
});

test('the system PATH is the last resort; none anywhere gives advice', () => {
  const none = resolveTool('ffmpeg', { env: { PATH: '' }, sources: ['env', 'system'] });
  assert.equal(none.path, null);
  assert.deepEqual(none.tried, ['system: no ffmpeg on PATH']);
  assert.match(none.advice!, /ffmpeg not found: run `npm ci`.*FFMPEG_PATH.*apt install ffmpeg/);
  // A broken system binary is skipped with its reason.
  const dir = path.join(tmp, 'broken');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'ffprobe'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  const broken = resolveTool('ffprobe', { env: { PATH: dir }, sources: ['system'] });
  assert.equal(broken.path, null);
  assert.match(broken.tried[0]!, /^system: .*ffprobe -version failed/);
});

test('a binary without the execute bit is rejected with the fix', () => {
  const copy = path.join(fakeSystemDir('noexec'), 'ffmpeg');
  chmodSync(copy, 0o644);
  const r = probeTool(copy);
  assert.ok('problem' in r && /not executable .*chmod \+x/.test(r.problem));
  chmodSync(copy, 0o755);
  assert.ok('version' in probeTool(copy));
  const notBinary = path.join(tmp, 'fake');
  writeFileSync(notBinary, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  const f = probeTool(notBinary);
  assert.ok('problem' in f && /-version failed/.test(f.problem));
});

test('the resolved ffmpeg encodes a clip that the resolved ffprobe reads back', () => {
  const out = path.join(tmp, 'clip.mp4');
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=32x32:r=15:d=0.4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', out], { timeout: 15_000 });
  const info = JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-show_streams', '-of', 'json', out], { timeout: 15_000 }).toString()) as { streams: { width: number; height: number; codec_name: string; nb_frames: string }[] };
  const s = info.streams[0]!;
  assert.equal(s.codec_name, 'h264');
  assert.deepEqual([s.width, s.height], [32, 32]);
  assert.equal(Number(s.nb_frames), 6);
});
