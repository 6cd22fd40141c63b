// The engine cache: weights referenced in place through hard links (also when the download is a
// folder of symlinks, like a Hugging Face cache snapshot), converted or copied where they cannot be,
// and ONNX files opened by path so ORT resolves their external data inside the cache folder.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Graph } from '../../graph/graph.js';
import { add } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/matmul.js';
import { f16ToF32, f32ToF16 } from '../../graph/half.js';
import { writeSafetensors } from '../weights/safetensors.js';
import { bucketName, compileInCache, prepareWeights } from './engine-cache.js';
import type { EngineDtype, PreparedWeights } from './engine-cache.js';
import { WeightIndex } from './weight-index.js';

const root = mkdtempSync(path.join(tmpdir(), 'refree-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

const W = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 4);
const Bv = Float32Array.of(0.5, -1, 70000); // 70000 overflows fp16
const specs = [
  { name: 'w', shape: [4, 3] },
  { name: 'b', shape: [3] },
];
const x = Float32Array.of(1, 2, 3, 4);
const expected = Array.from({ length: 3 }, (_, j) => x.reduce((s, xi, i) => s + xi * W[i * 3 + j]!, 0) + Bv[j]!);

async function run(prep: PreparedWeights, dtype: EngineDtype, stem: string): Promise<{ y: number[]; modelPath: string }> {
  const g = new Graph('tiny_linear');
  const xin = g.input('x', dtype, [1, 4]);
  g.output(add(matmul(xin, prep.provider.get(g, 'w', [4, 3])), prep.provider.get(g, 'b', [3])), 'y');
  const o = await compileInCache(g, prep.dir, stem, { prefer: 'cpu', fallback: false });
  try {
    const feed = dtype === 'float32' ? x : f32ToF16(x).data;
    const y = (await o.session.run({ x: feed })).y!;
    return { y: [...(y instanceof Float32Array ? y : f16ToF32(y as Uint16Array))], modelPath: o.modelPath };
  } finally {
    await o.session.release();
  }
}

test('a symlinked source (HF cache snapshot) is hard-linked by its real path and read in place; fp16 converts with an overflow note', async () => {
  const blobs = path.join(root, 'hub', 'blobs');
  const snap = path.join(root, 'hub', 'snapshots', 'abc');
  mkdirSync(blobs, { recursive: true });
  mkdirSync(snap, { recursive: true });
  await writeSafetensors(path.join(blobs, '0123'), [
    { name: 'w', dtype: 'F32', shape: [4, 3], data: W },
    { name: 'b', dtype: 'F32', shape: [3], data: Bv },
  ]);
  const link = path.join(snap, 'weights.safetensors');
  symlinkSync(path.join(blobs, '0123'), link);
  const cacheRoot = path.join(root, 'pkg', 'engines');
  const index = await WeightIndex.open('refree', [{ path: link, format: 'safetensors' }], specs);
  try {
    const prep = await prepareWeights(cacheRoot, 'test', index, specs, 'float32', { sourceId: 'id1' });
    assert.deepEqual([prep.inPlace, prep.converted, prep.writtenBytes, prep.notes], [2, 0, 0, []]);
    const r = await run(prep, 'float32', `cpu.test.${bucketName({ b: 1, n: 4 })}`);
    r.y.forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-4, `${v} vs ${expected[j]}`));
    assert.equal(path.basename(r.modelPath), 'cpu.test.b1-n4.onnx');
    const linked = readdirSync(path.join(cacheRoot, 'float32', 'weights'));
    assert.equal(linked.length, 1);
    assert.equal(statSync(path.join(cacheRoot, 'float32', 'weights', linked[0]!)).ino, statSync(path.join(blobs, '0123')).ino, 'a hard link, not a copy');

    const half = await prepareWeights(cacheRoot, 'test', index, specs, 'float16', { sourceId: 'id1' });
    assert.deepEqual([half.inPlace, half.converted], [0, 2]);
    assert.ok(half.writtenBytes > 0);
    assert.deepEqual(half.notes, ['1 test weight value(s) exceed the fp16 range and were clamped to ±65504']);
    const h = await run(half, 'float16', 'cpu.test.fp16');
    assert.ok(Math.abs(h.y[0]! - expected[0]!) < 0.05 && Math.abs(h.y[2]! - 65504 - (expected[2]! - 70000)) < 64, h.y.join(','));
    // Converted once: a second prepare writes nothing.
    assert.equal((await prepareWeights(cacheRoot, 'test', index, specs, 'float16', { sourceId: 'id1' })).writtenBytes, 0);
  } finally {
    await index.close();
  }
});

test('without links (another filesystem) the tensors are copied into the cache; a replaced source gets a fresh link', async () => {
  const src = path.join(root, 'loose.safetensors');
  await writeSafetensors(src, [
    { name: 'w', dtype: 'F32', shape: [4, 3], data: W },
    { name: 'b', dtype: 'F32', shape: [3], data: Bv },
  ]);
  const cacheRoot = path.join(root, 'pkg2', 'engines');
  let index = await WeightIndex.open('refree', [{ path: src, format: 'safetensors' }], specs);
  try {
    const copied = await prepareWeights(cacheRoot, 'test', index, specs, 'float32', { sourceId: 'id2', noLinks: true });
    assert.deepEqual([copied.inPlace, copied.converted], [0, 2]);
    const r = await run(copied, 'float32', 'cpu.test.copied');
    r.y.forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-4));
    await prepareWeights(cacheRoot, 'test', index, specs, 'float32', { sourceId: 'id2' });
  } finally {
    await index.close();
  }
  // Replace the source (new inode, same path and size): the stale link is swapped for a new one.
  rmSync(src);
  const W2 = Float32Array.from(W, (v) => v * 2);
  await writeSafetensors(src, [
    { name: 'w', dtype: 'F32', shape: [4, 3], data: W2 },
    { name: 'b', dtype: 'F32', shape: [3], data: Bv },
  ]);
  index = await WeightIndex.open('refree', [{ path: src, format: 'safetensors' }], specs);
  try {
    const prep = await prepareWeights(cacheRoot, 'test', index, specs, 'float32', { sourceId: 'id3' });
    const r = await run(prep, 'float32', 'cpu.test.linked');
    const exp0 = x.reduce((s, xi, i) => s + xi * W2[i * 3]!, 0) + Bv[0]!;
    assert.ok(Math.abs(r.y[0]! - exp0) < 1e-4, `${r.y[0]} vs ${exp0}`);
  } finally {
    await index.close();
  }
});

test('a missing weight or a wrong shape is refused before any engine is built, naming the key', async () => {
  const src = path.join(root, 'short.safetensors');
  await writeSafetensors(src, [{ name: 'model_state.w', dtype: 'F32', shape: [3, 4], data: W }]);
  const index = await WeightIndex.open('refree', [{ path: src, format: 'safetensors' }], specs);
  try {
    assert.equal(index.prefix, 'model_state.');
    await assert.rejects(prepareWeights(path.join(root, 'pkg3'), 'adapter', index, specs, 'float32', { sourceId: 'x' }), (e: Error) => {
      assert.match(e.message, /adapter: 1 parameter\(s\) missing from the files: 'b'/);
      assert.match(e.message, /adapter: 'model_state\.w' has shape \[3,4\], the architecture needs \[4,3\] for 'w'/);
      return true;
    });
  } finally {
    await index.close();
  }
});
