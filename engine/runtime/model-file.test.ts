// Opening an .onnx file with external data: a missing or truncated weights file is reported before
// ORT sees it, naming the file's absolute path and the initializer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../graph/graph.js';
import { saveModel } from '../graph/onnx/save.js';
import { matmul } from '../graph/ops/matmul.js';
import { openSession } from './backends.js';
import { ExternalDataError, checkExternalData, modelIo, readModelProto } from './model-file.js';

function saveTwoLayer(dir: string): { modelPath: string; dataPath: string } {
  const g = new Graph('two_layer');
  const x = g.input('x', 'float32', [1, 64]);
  const a = g.initializer('layer1.weight', 'float32', [64, 32], { kind: 'inline', data: Float32Array.from({ length: 64 * 32 }, (_, i) => (i % 5) / 10) });
  const b = g.initializer('layer2.weight', 'float32', [32, 2], { kind: 'inline', data: new Float32Array(64).fill(0.25) });
  g.output(matmul(matmul(x, a), b), 'y');
  const saved = saveModel(g, path.join(dir, 'model.onnx'), { externalThreshold: 128 });
  assert.ok(saved.dataPath, 'weights went to an external file');
  return { modelPath: saved.modelPath, dataPath: saved.dataPath };
}

test('an intact model with external data opens by path; its I/O is read from the file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-mf-'));
  const { modelPath, dataPath } = saveTwoLayer(dir);
  const proto = readModelProto(modelPath);
  assert.deepEqual(modelIo(proto), { inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }] });
  const refs = checkExternalData(modelPath, proto);
  assert.deepEqual(refs.map((r) => [r.initializer, r.file]), [['layer1.weight', dataPath], ['layer2.weight', dataPath]]);
  assert.equal(refs[0]!.length, 64 * 32 * 4);
  const o = await openSession(modelPath, { prefer: 'cpu' });
  const y = (await o.session.run({ x: new Float32Array(64).fill(1) })).y as Float32Array;
  // Row sums of layer1 (each column sums the pattern (i%5)/10 over 64 rows), times 0.25 over 32 columns.
  let expect = 0;
  for (let j = 0; j < 32; j++) for (let i = 0; i < 64; i++) expect += (((i * 32 + j) % 5) / 10) * 0.25;
  assert.ok(Math.abs(y[0]! - expect) < 1e-3, `${y[0]} vs ${expect}`);
  await o.session.release();
});

test('a deleted data file is named by absolute path, with the initializer that needs it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-mf-'));
  const { modelPath, dataPath } = saveTwoLayer(dir);
  rmSync(dataPath);
  await assert.rejects(openSession(modelPath), (e: Error) => {
    assert.ok(e instanceof ExternalDataError);
    assert.ok(path.isAbsolute(dataPath));
    assert.ok(e.message.includes(`external data file ${dataPath} is missing`), e.message);
    assert.match(e.message, /initializer "layer1\.weight"/);
    assert.match(e.message, /and 1 more problem/);
    assert.ok(e.message.includes(path.resolve(modelPath)));
    return true;
  });
});

test('a truncated data file is reported as too short, naming the file and the initializer cut off', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-mf-'));
  const { modelPath, dataPath } = saveTwoLayer(dir);
  const full = statSync(dataPath).size;
  truncateSync(dataPath, full - 100);
  assert.throws(() => checkExternalData(modelPath), (e: Error) => {
    assert.ok(e instanceof ExternalDataError);
    assert.ok(e.message.includes(`external data file ${dataPath} is too short: ${full - 100} bytes`), e.message);
    // Only the second initializer runs past the end.
    assert.match(e.message, /initializer "layer2\.weight" needs bytes \d+\.\.\d+/);
    assert.doesNotMatch(e.message, /more problem/);
    return true;
  });
});

test('a relative model path resolves external data beside the model, as ORT does', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refree-mf-'));
  const { modelPath, dataPath } = saveTwoLayer(dir);
  const rel = path.relative(process.cwd(), modelPath);
  const refs = checkExternalData(rel);
  assert.equal(refs[0]!.file, dataPath);
});
