import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianNoise, philox4x32 } from './noise.js';

const hex = (a: Uint32Array): string => [...a].map((x) => x.toString(16).padStart(8, '0')).join(' ');

test('Philox-4x32-10 matches the Random123 known-answer vectors', () => {
  assert.equal(hex(philox4x32(0, 0, 0, 0, 0, 0)), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  const f = 0xffffffff;
  assert.equal(hex(philox4x32(f, f, f, f, f, f)), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.equal(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)), 'd16cfe09 94fdcceb 5001e420 24126ea1');
});

test('element i is Box–Muller of Philox block ⌊i/4⌋ with key = seed, counter = (block, stream)', () => {
  const seed = 2 ** 40 + 12345;
  const stream = 2 ** 33 + 7;
  const offset = 2 ** 34 + 2; // block ≥ 2^32: the counter's high word is used
  const got = gaussianNoise(seed, stream, 6, offset);
  const ref: number[] = [];
  for (let i = offset; i < offset + 6; i++) {
    const block = Math.floor(i / 4);
    const w = philox4x32(block % 2 ** 32, Math.floor(block / 2 ** 32), stream % 2 ** 32, Math.floor(stream / 2 ** 32), seed % 2 ** 32, Math.floor(seed / 2 ** 32));
    const pair = i % 4 < 2 ? 0 : 2;
    const r = Math.sqrt(-2 * Math.log((w[pair]! + 0.5) / 2 ** 32));
    const th = 2 * Math.PI * ((w[pair + 1]! + 0.5) / 2 ** 32);
    ref.push(Math.fround(i % 2 === 0 ? r * Math.cos(th) : r * Math.sin(th)));
  }
  assert.deepEqual([...got], ref);
});

test('same seed → identical bits; different seed or stream → different noise', () => {
  const a = gaussianNoise(42, 0, 10000);
  const b = gaussianNoise(42, 0, 10000);
  assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
  for (const other of [gaussianNoise(43, 0, 10000), gaussianNoise(42, 1, 10000)]) {
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === other[i]) same++;
    assert.ok(same < 5, `${same} equal values`);
  }
});

test('independent of chunking: any slice regenerates alone', () => {
  const whole = gaussianNoise(7, 3, 1001);
  const cuts = [0, 1, 3, 4, 9, 10, 500, 1001];
  const pieced = new Float32Array(1001);
  for (let k = 0; k + 1 < cuts.length; k++) pieced.set(gaussianNoise(7, 3, cuts[k + 1]! - cuts[k]!, cuts[k]!), cuts[k]!);
  assert.deepEqual([...pieced], [...whole]);
  const into = new Float32Array(20);
  gaussianNoise(7, 3, 13, 333, into);
  assert.deepEqual([...into.subarray(0, 13)], [...whole.subarray(333, 346)]);
});

test('statistics: mean ≈ 0, std ≈ 1, 68.27% within 1σ, no lag-1 correlation; speed', (t) => {
  const n = 1 << 20;
  let t0 = performance.now();
  const x = gaussianNoise(1234, 0, n);
  const coldMs = performance.now() - t0;
  t0 = performance.now();
  gaussianNoise(1235, 0, n);
  const ms = performance.now() - t0;
  let s = 0;
  let q = 0;
  let within = 0;
  let lag = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    s += v;
    q += v * v;
    if (Math.abs(v) < 1) within++;
    if (i > 0) lag += v * x[i - 1]!;
  }
  const mean = s / n;
  const std = Math.sqrt(q / n - mean * mean);
  const se = 1 / Math.sqrt(n); // ≈ 0.001
  assert.ok(Math.abs(mean) < 5 * se, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 5 * se, `std ${std}`);
  assert.ok(Math.abs(within / n - 0.682689) < 0.003, `within 1σ ${within / n}`);
  assert.ok(Math.abs(lag / (n - 1)) < 5 * se, `lag-1 correlation ${lag / (n - 1)}`);
  t.diagnostic(`gaussianNoise: ${(n / ms / 1e3).toFixed(1)} M samples/s warm, ${(n / coldMs / 1e3).toFixed(1)} cold (${n} samples)`);
});

test('bad arguments are rejected', () => {
  assert.throws(() => gaussianNoise(-1, 0, 4), /seed must be an integer/);
  assert.throws(() => gaussianNoise(1.5, 0, 4), /seed must be an integer/);
  assert.throws(() => gaussianNoise(1, 0, 8, 0, new Float32Array(4)), /need 8/);
});
