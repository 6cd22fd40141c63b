// Streamed hashing (chunked, never the whole file in memory) and the progress line it drives.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashFile, hashFiles } from './hash.js';
import { formatBytes, formatDuration, progressLine, progressReporter } from './progress.js';

const dir = mkdtempSync(path.join(tmpdir(), 'refree-hash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('hashFile streams in chunks and equals a one-shot SHA-256; hashFiles reports progress over the total', async () => {
  // 8 MiB + 5 bytes: two full chunks' worth of boundary cases (a full chunk, then a short one).
  const big = Buffer.alloc((8 << 20) + 5);
  for (let i = 0; i < big.length; i += 4093) big[i] = i & 0xff;
  const a = path.join(dir, 'a.bin');
  const b = path.join(dir, 'b.bin');
  writeFileSync(a, big);
  writeFileSync(b, 'hello');
  const chunks: number[] = [];
  const h = await hashFile(a, (n) => chunks.push(n));
  assert.equal(h.sha256, createHash('sha256').update(big).digest('hex'));
  assert.equal(h.bytes, big.length);
  assert.deepEqual(chunks, [8 << 20, 5]);
  const seen: { done: number; total: number; file: string }[] = [];
  const all = await hashFiles([a, b], (p) => seen.push({ ...p }));
  assert.equal(all.get(b)!.sha256, createHash('sha256').update('hello').digest('hex'));
  assert.deepEqual(seen.at(-1), { done: big.length + 5, total: big.length + 5, file: b });
  assert.ok(seen.every((p, i) => i === 0 || p.done >= seen[i - 1]!.done), 'monotonic');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(hashFile(a, undefined, ac.signal), /abort/i);
});

test('progress line: percent, bar, sizes, rate and ETA; plain sinks print sparse lines, terminals redraw', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(20 * 1024 ** 3), '20.0 GiB');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(7300), '2h01m');
  const line = progressLine('hashing', 5 * 1024 ** 3, 20 * 1024 ** 3, 10, 'shard-1.safetensors', 10);
  assert.equal(line, 'hashing  25% [==>       ] 5.00 GiB / 20.0 GiB  512 MiB/s  ETA 30s  shard-1.safetensors');
  const plain = { text: '', isTTY: false, stderr: (t: string) => void (plain.text += t) };
  const r = progressReporter(plain, 'hashing');
  for (let i = 0; i <= 100; i++) r.update({ done: i, total: 100, file: '/x/f.bin' });
  r.finish();
  const lines = plain.text.trim().split('\n');
  assert.ok(lines.length >= 10 && lines.length <= 12, `${lines.length} lines`);
  assert.match(lines.at(-1)!, /^hashing 100% \[=+\] .* ETA 0s {2}f\.bin$/);
  const tty = { text: '', isTTY: true, stderr: (t: string) => void (tty.text += t) };
  const t = progressReporter(tty, 'hashing');
  t.update({ done: 1, total: 2, file: 'f' });
  t.finish();
  const ERASE = '\u001b[K';
  const parts = tty.text.split('\r').slice(1);
  assert.equal(parts.length, 2, JSON.stringify(tty.text));
  assert.ok(parts[0]!.startsWith('hashing  50% ') && parts[0]!.endsWith(ERASE), parts[0]);
  assert.ok(parts[1]!.startsWith('hashing 100% ') && parts[1]!.endsWith(`${ERASE}\n`), parts[1]);
});
