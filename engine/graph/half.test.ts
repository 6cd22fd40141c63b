import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bf16BitsToF32,
  bf16ToF16,
  bf16ToF32,
  f16BitsToF32,
  f16ToF32,
  f32ToBf16,
  f32ToBf16Bits,
  f32ToF16,
  f32ToF16Bits,
} from './half.js';
import { Graph } from './graph.js';
import { mul } from './ops/elementwise.js';
import { CompiledGraph } from '../runtime/session.js';

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

test('fp32 -> fp16 known values, rounding to nearest even', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519, 0x7bff], // below the midpoint to 65536: rounds down, not an overflow
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between subnormals 1 and 2 -> even
    [1 + 2 ** -11, 0x3c00], // tie -> even mantissa (0)
    [1 + 3 * 2 ** -11, 0x3c02], // tie -> even mantissa (2)
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  for (const [x, h] of cases) assert.equal(hex(f32ToF16Bits(x)), hex(h), `f32ToF16Bits(${x})`);
  const nan = f32ToF16Bits(NaN);
  assert.ok((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0, `NaN stays NaN, got ${hex(nan)}`);
});

test('fp16 -> fp32 -> fp16 is the identity for every non-NaN fp16 value, and the bulk path agrees', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = f16ToF32(all);
  for (let h = 0; h < 65536; h++) {
    const v = f16BitsToF32(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f[h]!), `bulk ${hex(h)} should be NaN`);
      continue;
    }
    assert.ok(Object.is(f[h], v), `bulk f16ToF32(${hex(h)}) = ${f[h]}, scalar ${v}`);
    assert.equal(f32ToF16Bits(v), h, `round trip of ${hex(h)}`);
  }
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
});

test('bf16 <-> fp32 known values with round to nearest even', () => {
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0xc040), -3);
  assert.equal(bf16BitsToF32(0x7f80), Infinity);
  assert.equal(hex(f32ToBf16Bits(1)), '0x3f80');
  assert.equal(hex(f32ToBf16Bits(1 + 2 ** -8)), '0x3f80'); // tie -> even
  assert.equal(hex(f32ToBf16Bits(1 + 3 * 2 ** -8)), '0x3f82'); // tie -> even
  assert.equal(hex(f32ToBf16Bits(3.4e38)), '0x7f80'); // overflows to inf, as torch does
  const src = new Float32Array([1, -3, 0.15625, 1e-20]);
  const back = bf16ToF32(f32ToBf16(src));
  assert.deepEqual([...back.slice(0, 3)], [1, -3, 0.15625]);
  assert.ok(Math.abs(back[3]! - 1e-20) / 1e-20 < 2 ** -8, `1e-20 became ${back[3]}`);
});

test('bf16 -> fp16 is exact inside the fp16 normal range', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const { data } = bf16ToF16(all);
  let checked = 0;
  for (let b = 0; b < 65536; b++) {
    const v = bf16BitsToF32(b);
    if (!Number.isFinite(v) || Math.abs(v) > 65504 || Math.abs(v) < 2 ** -14) continue;
    assert.ok(Object.is(f16BitsToF32(data[b]!), v), `bf16 ${hex(b)} = ${v} became ${f16BitsToF32(data[b]!)}`);
    checked++;
  }
  assert.ok(checked > 5000, `checked ${checked} values`);
});

test('bf16 -> fp16 clamps overflow to ±65504 and counts it; inf/NaN are kept and not counted', () => {
  const b = (x: number): number => f32ToBf16Bits(x);
  const src = Uint16Array.from([b(1), b(65536), b(-1e10), b(65280), b(Infinity), b(NaN), b(2 ** -24), b(2 ** -26), b(0)]);
  const r = bf16ToF16(src);
  assert.equal(r.overflows, 2);
  assert.equal(r.underflows, 1);
  assert.deepEqual([...r.data.slice(0, 5)].map(hex), ['0x3c00', '0x7bff', '0xfbff', '0x7bf8', '0x7c00']);
  assert.ok(Number.isNaN(f16BitsToF32(r.data[5]!)), `NaN became ${hex(r.data[5]!)}`);
  assert.equal(hex(r.data[6]!), '0x0001');
  assert.equal(hex(r.data[7]!), '0x0000');
});

test('fp32 -> fp16 bulk counts overflows and underflows', () => {
  const r = f32ToF16(new Float32Array([1e5, -1e5, 65504, 65520, Infinity, 1e-10, -1e-12, 0, 2.5]));
  assert.equal(r.overflows, 3);
  assert.equal(r.underflows, 2);
  assert.deepEqual([...r.data].map(hex), ['0x7bff', '0xfbff', '0x7bff', '0x7bff', '0x7c00', '0x0000', '0x8000', '0x0000', '0x4100']);
});

test('conversions honour an explicit output array and reject a wrong-sized one', () => {
  const out = new Float32Array(2);
  assert.equal(f16ToF32(Uint16Array.from([0x3c00, 0x4000]), out), out);
  assert.deepEqual([...out], [1, 2]);
  assert.throws(() => bf16ToF32(new Uint16Array(3), new Float32Array(2)), /3/);
});

test('float16 scalar constants carry half bits, so mul(x, 0.5) halves x', async () => {
  const g = new Graph();
  const x = g.input('x', 'float16', [3]);
  g.output(mul(x, 0.5), 'y');
  const c = await CompiledGraph.fromGraph(g);
  const y = (await c.run({ x: Uint16Array.from([1, 2, -4], f32ToF16Bits) })).y as Uint16Array;
  assert.deepEqual(Array.from(y, f16BitsToF32), [0.5, 1, -2]);
  await c.release();
});
