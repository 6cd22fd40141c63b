// The session cache: hits for the same graph (rebuilt from scratch) on the same backend and bucket,
// misses otherwise, and least-recently-used eviction that really releases the evicted session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph/graph.js';
import { mul } from '../graph/ops/elementwise.js';
import { serialize } from '../graph/onnx/serialize.js';
import { SessionCache, hashBytes } from './session-cache.js';

/** y = x * k on a [n] vector: distinct k or n give distinct graphs. */
function scaler(k: number, n = 4): Graph {
  const g = new Graph('scaler');
  g.output(mul(g.input('x', 'float32', [n]), k), 'y');
  return g;
}

test('the same graph, rebuilt, hits; another bucket or graph misses', async () => {
  const cache = new SessionCache({ maxEntries: 4 });
  assert.equal(hashBytes(serialize(scaler(3))), hashBytes(serialize(scaler(3))), 'graph hash is stable across rebuilds');
  const a = await cache.open(scaler(3), { prefer: 'cpu' });
  const b = await cache.open(scaler(3), { prefer: 'cpu' });
  assert.equal(b.session, a.session, 'hit returns the same session');
  assert.equal(a.backend, 'cpu');
  assert.deepEqual(cache.stats(), { hits: 1, misses: 1, evictions: 0, entries: 1, bytes: a.bytes });
  const c = await cache.open(scaler(3), { prefer: 'cpu', bucket: 'f8x64x64' });
  assert.notEqual(c.session, a.session, 'another bucket is another session');
  const d = await cache.open(scaler(5), { prefer: 'cpu' });
  assert.notEqual(d.session, a.session);
  assert.equal(cache.stats().misses, 3);
  const y = (await d.session.run({ x: Float32Array.from([1, 2, 3, 4]) })).y as Float32Array;
  assert.deepEqual(Array.from(y), [5, 10, 15, 20]);
  await cache.clear();
  assert.equal(cache.stats().entries, 0);
});

test('least recently used is evicted first, and its session is released', async () => {
  const cache = new SessionCache({ maxEntries: 2 });
  const a = await cache.open(scaler(2), { prefer: 'cpu' });
  const b = await cache.open(scaler(3), { prefer: 'cpu' });
  await cache.open(scaler(2), { prefer: 'cpu' }); // touch A: B is now the least recently used
  const c = await cache.open(scaler(4), { prefer: 'cpu' });
  const s = cache.stats();
  assert.equal(s.evictions, 1);
  assert.equal(s.entries, 2);
  await assert.rejects(b.session.run({ x: new Float32Array(4) }), /disposed/i, 'evicted session was released');
  const ya = (await a.session.run({ x: Float32Array.from([1, 1, 1, 1]) })).y as Float32Array;
  assert.deepEqual(Array.from(ya), [2, 2, 2, 2], 'A survived');
  assert.ok((await c.session.run({ x: new Float32Array(4) })).y);
  const again = await cache.open(scaler(3), { prefer: 'cpu' });
  assert.notEqual(again.session, b.session, 'B is opened again after eviction');
  await cache.clear();
});

test('a byte budget evicts before a new model is opened', async () => {
  // Each entry's bytes are its serialized size; a budget just above one model keeps exactly one alive.
  const oneModel = serialize(scaler(2, 1024)).byteLength;
  const cache = new SessionCache({ maxEntries: 10, maxBytes: oneModel + 10 });
  const a = await cache.open(scaler(2, 1024), { prefer: 'cpu' });
  await cache.open(scaler(3, 1024), { prefer: 'cpu' });
  assert.equal(cache.stats().entries, 1);
  assert.equal(cache.stats().evictions, 1);
  await assert.rejects(a.session.run({ x: new Float32Array(1024) }), /disposed/i);
  await cache.clear();
});

test('concurrent requests for one key open one session', async () => {
  const cache = new SessionCache();
  const [a, b] = await Promise.all([cache.open(scaler(7), { prefer: 'cpu' }), cache.open(scaler(7), { prefer: 'cpu' })]);
  assert.equal(a.session, b.session);
  assert.equal(cache.stats().misses, 1);
  await cache.clear();
});
