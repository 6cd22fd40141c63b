import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalfBits, halfBitsToFloat } from './half.js';
import { Graph } from './graph.js';
import { mul } from './ops/elementwise.js';
import { CompiledGraph } from '../runtime/session.js';

test('half conversion: exact values, rounding, overflow and subnormals', () => {
  assert.equal(floatToHalfBits(1), 0x3c00);
  assert.equal(floatToHalfBits(-2), 0xc000);
  assert.equal(floatToHalfBits(0.5), 0x3800);
  assert.equal(floatToHalfBits(65504), 0x7bff);
  assert.equal(floatToHalfBits(1e6), 0x7c00);
  assert.equal(floatToHalfBits(2 ** -24), 0x0001);
  assert.equal(floatToHalfBits(1 + 2 ** -11), 0x3c00, 'ties round to even');
  assert.equal(floatToHalfBits(1 + 3 * 2 ** -11), 0x3c02);
  for (const v of [0.1, 3.14159, -1234.5, 6.1e-5, 1e-7]) {
    const back = halfBitsToFloat(floatToHalfBits(v));
    assert.ok(Math.abs(back - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back}`);
  }
});

test('float16 scalar constants carry half bits, so mul(x, 0.5) halves x', async () => {
  const g = new Graph();
  const x = g.input('x', 'float16', [3]);
  g.output(mul(x, 0.5), 'y');
  const c = await CompiledGraph.fromGraph(g);
  const y = (await c.run({ x: Uint16Array.from([1, 2, -4], floatToHalfBits) })).y as Uint16Array;
  assert.deepEqual(Array.from(y, halfBitsToFloat), [0.5, 1, -2]);
  await c.release();
});
