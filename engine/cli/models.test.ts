// `refree models describe | import | verify` through the CLI entry.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY } from '../model/config.js';
import { writeFakeOriginal } from '../model/package/testing/fake-wan.js';
import type { CliIO } from './command.js';
import { main } from './main.js';

const BIN = fileURLToPath(new URL('../../bin/refree.mjs', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'refree-models-'));
after(() => rmSync(root, { recursive: true, force: true }));

function captureIO(isTTY = false): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', isTTY, stdout: (t: string) => void (io.out += `${t}\n`), stderr: (t: string) => void (io.err += t) };
  return io;
}

test('refree models describe wan2.2-ti2v-5b --json prints ONE JSON line with the exact counts (real process)', () => {
  const r = spawnSync(process.execPath, [BIN, 'models', 'describe', 'wan2.2-ti2v-5b', '--json'], { encoding: 'utf8', timeout: 60_000, cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stdout);
  assert.ok(r.stdout.startsWith('{"dit":{"parameters":4999787712,'), r.stdout);
  const d = JSON.parse(r.stdout) as Record<string, { parameters: number; tensors: number; bytes: { fp16: number; fp32: number } }>;
  assert.deepEqual(Object.keys(d), ['dit', 'vae', 't5', 'total']);
  assert.deepEqual(d.dit, { parameters: 4_999_787_712, tensors: 825, bytes: { fp16: 9_999_575_424, fp32: 19_999_150_848 } });
  assert.equal(d.vae!.parameters, 704_688_668);
  assert.equal(d.vae!.tensors, 196);
  assert.equal(d.vae!.bytes.fp32, 4 * 704_688_668);
  assert.equal(d.t5!.parameters, 5_680_910_336);
  assert.equal(d.total!.parameters, 4_999_787_712 + 704_688_668 + 5_680_910_336);
});

test('describe adds the ReFree adapter and LoRA counts when asked; reads a package and a config file; human table', async () => {
  let io = captureIO();
  assert.equal(await main(['models', 'describe', 'wan2.2-ti2v-5b', '--refree', 'refree-5b', '--lora-rank', '32', '--json'], io), 0);
  const d = JSON.parse(io.out) as Record<string, { parameters: number; adapters?: { rank: number }[] }>;
  assert.deepEqual(Object.keys(d), ['dit', 'vae', 't5', 'refree', 'lora', 'total']);
  // DiffSynth's rank-32 LoRA on q,k,v,o (self + cross) and both FFN linears of 30 blocks: 80.6M (wan2.2-ti2v-5b.md §6).
  assert.equal(d.lora!.parameters, 80_609_280);
  assert.equal(d.lora!.adapters![0]!.rank, 32);
  assert.ok(d.refree!.parameters > 10_000_000 && d.refree!.parameters < 200_000_000, String(d.refree!.parameters));
  assert.equal(d.total!.parameters, d.dit!.parameters + d.vae!.parameters + d.t5!.parameters + d.refree!.parameters + d.lora!.parameters);

  const cfgFile = path.join(root, 'tiny-config.json');
  writeFileSync(cfgFile, JSON.stringify({ architecture: { ...TINY, name: 'my-tiny' }, refree: 'refree-tiny', lora: { rank: 4 } }));
  io = captureIO();
  assert.equal(await main(['models', 'describe', cfgFile], io), 0);
  assert.match(io.out, /^my-tiny \(/);
  assert.match(io.out, /\n {2}dit +81,968 +69 +/);
  assert.match(io.out, /\n {2}refree +\d/);
  assert.match(io.out, /\n {2}lora +\d/);

  io = captureIO();
  assert.equal(await main(['models', 'describe', 'wan2.2-ti2v-6b', '--json'], io), 1);
  assert.match((JSON.parse(io.out) as { error: string }).error, /neither a known architecture \(wan2\.2-ti2v-5b, tiny\)/);
});

test('import --json prints one object (progress on stderr); verify --json reports a corrupted shard by file and exits 1', async () => {
  const fake = await writeFakeOriginal(path.join(root, 'Wan2.2-TI2V-5B'));
  const pkg = path.join(root, 'pkg');
  let io = captureIO();
  assert.equal(await main(['models', 'import', fake.dir, '--out', pkg, '--name', 'tiny-wan', '--json'], io), 0);
  assert.equal(io.out.trim().split('\n').length, 1);
  const rep = JSON.parse(io.out) as { ok: boolean; name: string; architecture: string; components: Record<string, unknown>; manifest: string };
  assert.deepEqual([rep.ok, rep.name, rep.architecture], [true, 'tiny-wan', 'tiny']);
  assert.equal(rep.manifest, path.join(pkg, 'refree.json'));
  assert.match(io.err, /^hashing +\d+% \[[= >]+\] .* ETA/m);
  assert.match(io.err, /hashing +100% \[=+\]/);

  // Human output on a "terminal": the progress line redraws in place with \r.
  io = captureIO(true);
  assert.equal(await main(['models', 'import', fake.dir, '--out', pkg], io), 0);
  assert.ok(io.err.includes('\r'), 'redrawn in place');
  assert.match(io.out, /^Imported Wan2\.2-TI2V-5B \(tiny, original layout\)/);
  assert.match(io.out, /\n {2}dit +4 files/);

  io = captureIO();
  assert.equal(await main(['models', 'verify', pkg, '--json'], io), 0);
  assert.equal((JSON.parse(io.out) as { ok: boolean }).ok, true);

  const shard = fake.shards[0]!;
  const fd = openSync(shard, 'r+');
  writeSync(fd, Buffer.from([0x5a]), 0, 1, statSync(shard).size - 3);
  closeSync(fd);
  io = captureIO();
  assert.equal(await main(['models', 'verify', pkg, '--json'], io), 1);
  const v = JSON.parse(io.out) as { ok: boolean; files: { file: string; ok: boolean; problems: string[] }[] };
  assert.equal(v.ok, false);
  const bad = v.files.filter((f) => !f.ok);
  assert.deepEqual(bad.map((f) => f.file), [shard]);
  assert.match(bad[0]!.problems[0]!, /^SHA-256 differs/);
  io = captureIO();
  assert.equal(await main(['models', 'verify', pkg], io), 1);
  assert.match(io.out, /\n {2}FAIL {2}dit +\S*diffusion_pytorch_model-00001-of-00002\.safetensors\n {10}SHA-256 differs/);

  // A damaged manifest: every problem by field path, one JSON line.
  writeFileSync(path.join(pkg, 'refree.json'), JSON.stringify({ format: 'refree-package/1', name: 'x', version: '1', architecture: 'wan9', components: { dit: { keyLayout: 'original', files: [{ path: 'a', format: 'gguf', keyLayout: 'original', dtype: 'F32', bytes: 1, sha256: 'abc' }] } } }));
  io = captureIO();
  assert.equal(await main(['models', 'verify', pkg, '--json'], io), 1);
  const m = JSON.parse(io.out) as { problems: string[] };
  assert.ok(m.problems.some((p) => /^components\.dit\.files\[0\]\.format: /.test(p)), m.problems.join('\n'));
  assert.ok(m.problems.some((p) => /^components\.dit\.files\[0\]\.sha256: expected 64 lowercase hex digits/.test(p)), m.problems.join('\n'));
});

test('command-line mistakes exit 2 with a pointer to help', async () => {
  let io = captureIO();
  assert.equal(await main(['models', 'frobnicate'], io), 2);
  assert.match(io.err, /unknown models subcommand "frobnicate" \(import, create, merge, verify, describe\)/);
  io = captureIO();
  assert.equal(await main(['models', 'import'], io), 2);
  assert.match(io.err, /refree models import <dir>/);
  io = captureIO();
  assert.equal(await main(['run', 'unet', '--out', 'x'], io), 2);
  assert.match(io.err, /unknown component "unet" \(dit, vae-encode, vae-decode, t5\)/);
  io = captureIO();
  assert.equal(await main(['models', '--help'], io), 0);
  assert.match(io.out, /^Usage: refree models <import\|create\|merge\|verify\|describe>/);
});
