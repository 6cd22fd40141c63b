// External data: initializers whose bytes live outside the .onnx file, including pointing straight
// into a safetensors file by offset and length (no copy of multi-GB weights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../graph.js';
import { matmul } from '../ops/matmul.js';
import { saveModel } from './save.js';
import { CompiledGraph } from '../../runtime/session.js';

/** A minimal safetensors file: u64 header length, JSON header, then the raw tensor bytes. */
function writeSafetensors(file: string, name: string, values: Float32Array): { offset: number; length: number } {
  const header = JSON.stringify({ [name]: { dtype: 'F32', shape: [values.length], data_offsets: [0, values.byteLength] } });
  const padded = header.padEnd(Math.ceil(header.length / 8) * 8, ' ');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  writeFileSync(file, Buffer.concat([len, Buffer.from(padded), Buffer.from(values.buffer)]));
  return { offset: 8 + padded.length, length: values.byteLength };
}

test('an initializer can point into a safetensors file by offset and length', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-ext-'));
  const w = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
  const ref = writeSafetensors(path.join(dir, 'weights.safetensors'), 'w', w);
  const g = new Graph('ext');
  const x = g.input('x', 'float32', [2, 3]);
  const wt = g.initializer('w', 'float32', [3, 4], { kind: 'external', location: 'weights.safetensors', ...ref });
  g.output(matmul(x, wt), 'y');
  const saved = saveModel(g, path.join(dir, 'model.onnx'));
  assert.ok(statSync(saved.modelPath).size < 1000, 'weights are not copied into the model');
  const c = await CompiledGraph.fromBytes(saved.modelPath, g.inputs, g.outputs);
  const xs = Float32Array.from([1, 2, 3, -1, 0, 2]);
  const y = (await c.run({ x: xs })).y as Float32Array;
  const expect = [0, 1].flatMap((r) => [0, 1, 2, 3].map((col) => [0, 1, 2].reduce((s, k) => s + xs[r * 3 + k]! * w[k * 4 + col]!, 0)));
  assert.deepEqual(Array.from(y), expect);
  await c.release();
});

test('saveModel moves large initializers to a data file beside the model, 64-byte aligned', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-ext-'));
  const g = new Graph('big');
  const x = g.input('x', 'float32', [1, 256]);
  const a = g.initializer('a', 'float32', [256, 256], { kind: 'inline', data: Float32Array.from({ length: 65536 }, (_, i) => (i % 7) / 7) });
  const b = g.initializer('b', 'float32', [256, 3], { kind: 'inline', data: new Float32Array(768).fill(0.5) });
  g.output(matmul(matmul(x, a), b), 'y');
  const saved = saveModel(g, path.join(dir, 'm.onnx'), { externalThreshold: 1024 });
  assert.ok(saved.dataPath && existsSync(saved.dataPath));
  assert.ok(saved.externalBytes >= 65536 * 4 + 768 * 4);
  const c = await CompiledGraph.fromBytes(saved.modelPath, g.inputs, g.outputs);
  const y = (await c.run({ x: new Float32Array(256).fill(1) })).y as Float32Array;
  const colSum = Array.from({ length: 256 }, (_, j) => Array.from({ length: 256 }, (_, i) => ((i * 256 + j) % 7) / 7).reduce((s, v) => s + v, 0));
  const expected = colSum.reduce((s, v) => s + v * 0.5, 0);
  for (const v of y) assert.ok(Math.abs(v - expected) / expected < 1e-5, `${v} vs ${expected}`);
  await c.release();
});
