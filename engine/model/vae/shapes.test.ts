// Build-time checks (no ORT runs): the frame/size rules, the cache slot lists of the 5B VAE, and the
// errors a wrong input gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/graph.js';
import { ShapeError } from '../../graph/errors.js';
import { TINY, WAN22_TI2V_5B } from '../config.js';
import { vaeDecoderParams, vaeEncoderParams, vaeParams } from '../inventory/vae.js';
import { randomWeights } from '../random-weights.js';
import { InputWeightProvider, MapWeightProvider } from '../weight-provider.js';
import { cacheBytes, vaeCacheSpecs } from './cache-specs.js';
import { VaeContext } from './context.js';
import { decodeChunkGraph, vaeDecoder } from './decoder.js';
import { encodeChunkGraph, vaeEncoder } from './encoder.js';
import { latentFrameCount, latentSize, pixelFrameCount, spatialFactor, temporalFactor } from './geometry.js';
import { latentStats } from './latent-stats.js';

const WAN = WAN22_TI2V_5B.vae;

function isShapeError(op: string, ...fragments: string[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ShapeError, `expected ShapeError, got ${String(e)}`);
    assert.equal(e.op, op);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention ${f}`);
    return true;
  };
}

test('frame rule: 4n+1 pixel frames <-> n+1 latent frames; 16x spatial', () => {
  assert.equal(temporalFactor(WAN), 4);
  assert.equal(spatialFactor(WAN), 16);
  for (const [t, n] of [[1, 1], [5, 2], [9, 3], [81, 21], [121, 31]] as const) {
    assert.equal(latentFrameCount(WAN, t), n);
    assert.equal(pixelFrameCount(WAN, n), t);
  }
  for (const bad of [0, 2, 4, 6, 80]) assert.throws(() => latentFrameCount(WAN, bad), isShapeError('VAE frames', `[${bad}]`));
  assert.deepEqual(latentSize(WAN, 704, 1280), { height: 44, width: 80 });
  assert.throws(() => latentSize(WAN, 700, 1280), isShapeError('VAE size', '[700,1280]'));
  assert.equal(temporalFactor(TINY.vae), 4);
  assert.equal(spatialFactor(TINY.vae), 16);
});

test('chunk graphs have the frame counts of the rule (tiny config, shapes only)', () => {
  const p = new InputWeightProvider();
  const size = { height: 32, width: 48 };
  const e0 = encodeChunkGraph(TINY.vae, p, { ...size, first: true, frames: 9 });
  assert.deepEqual(e0.output.shape, [1, 8, 3, 2, 3]);
  const e1 = encodeChunkGraph(TINY.vae, p, { ...size, first: false, frames: 8 });
  assert.deepEqual(e1.output.shape, [1, 8, 2, 2, 3]);
  const d0 = decodeChunkGraph(TINY.vae, p, { ...size, first: true, frames: 3 });
  assert.deepEqual(d0.output.shape, [1, 3, 9, 32, 48]);
  const d1 = decodeChunkGraph(TINY.vae, p, { ...size, first: false, frames: 1 });
  assert.deepEqual(d1.output.shape, [1, 3, 4, 32, 48]);
  // First-chunk graphs take no cache inputs; later ones take exactly the listed caches, same shapes out.
  // (InputWeightProvider makes every weight a graph input too; those are left out here.)
  const dataInputs = (g: Graph) => g.inputs.filter((t) => !p.requested.has(t.name));
  assert.deepEqual(dataInputs(d0.graph).map((t) => t.name), ['latent']);
  assert.deepEqual(
    dataInputs(d1.graph).filter((t) => t.name !== 'latent').map((t) => [t.name, t.shape]),
    d1.caches.map((c) => [c.input, c.shape]),
  );
  const outShapes = (g: Graph) => new Map(g.outputs.map((t) => [t.name, t.shape]));
  for (const c of d1.caches) {
    assert.deepEqual(outShapes(d0.graph).get(c.output), c.shape);
    assert.deepEqual(outShapes(d1.graph).get(c.output), c.shape);
  }
});

test('Wan2.2 5B cache slots at 704x1280: 24 encoder and 32 decoder (26/34 CausalConv3d minus the 1^3 shortcuts)', () => {
  const size = { height: 704, width: 1280 };
  const enc = vaeCacheSpecs(WAN, 'encode', size);
  const dec = vaeCacheSpecs(WAN, 'decode', size);
  assert.equal(enc.length, 24);
  assert.equal(dec.length, 32);
  // The reference's 26 / 34 count every CausalConv3d module; the 1³ shortcuts never use their slot.
  const shortcuts = (names: string[]) => names.filter((n) => n.endsWith('shortcut.weight')).length;
  assert.equal(enc.length + shortcuts(vaeEncoderParams(WAN).map((p) => p.name)), 26);
  assert.equal(dec.length + shortcuts(vaeDecoderParams(WAN).map((p) => p.name).filter((n) => n.startsWith('decoder.'))), 34);
  // Every name is unique; every slot keeps 2 frames except downsample3d's time_conv (1 frame).
  assert.equal(new Set([...enc, ...dec].map((c) => c.input)).size, 56);
  for (const c of [...enc, ...dec]) {
    const oneFrame = c.key.startsWith('encoder.') && c.key.endsWith('.time_conv');
    assert.equal(c.shape[2], oneFrame ? 1 : 2, c.key);
  }
  const byKey = new Map([...enc, ...dec].map((c) => [c.key, c.shape]));
  assert.deepEqual(byKey.get('encoder.conv1'), [1, 12, 2, 352, 640]);
  assert.deepEqual(byKey.get('encoder.downsamples.1.downsamples.0.residual.2'), [1, 160, 2, 176, 320]);
  assert.deepEqual(byKey.get('encoder.downsamples.1.downsamples.2.time_conv'), [1, 320, 1, 88, 160]);
  assert.deepEqual(byKey.get('encoder.downsamples.2.downsamples.2.time_conv'), [1, 640, 1, 44, 80]);
  assert.deepEqual(byKey.get('encoder.head.2'), [1, 640, 2, 44, 80]);
  assert.deepEqual(byKey.get('decoder.conv1'), [1, 48, 2, 44, 80]);
  assert.deepEqual(byKey.get('decoder.upsamples.0.upsamples.3.time_conv'), [1, 1024, 2, 44, 80]);
  assert.deepEqual(byKey.get('decoder.upsamples.1.upsamples.3.time_conv'), [1, 1024, 2, 88, 160]);
  assert.deepEqual(byKey.get('decoder.upsamples.3.upsamples.0.residual.2'), [1, 512, 2, 352, 640]);
  assert.deepEqual(byKey.get('decoder.head.2'), [1, 256, 2, 352, 640]);
  // Execution order: the first and last slots of each pass.
  assert.equal(enc[0]!.key, 'encoder.conv1');
  assert.equal(enc.at(-1)!.key, 'encoder.head.2');
  assert.equal(dec[0]!.key, 'decoder.conv1');
  assert.equal(dec.at(-1)!.key, 'decoder.head.2');
  // fp32 state carried between chunks at 704x1280: 2.12 GB encode, 6.43 GB decode.
  assert.equal(cacheBytes(enc), 2_121_236_480);
  assert.equal(cacheBytes(dec), 6_431_744_000);
});

test('the 5B graphs consume every one of the 196 VAE weights', () => {
  const p = new InputWeightProvider();
  encodeChunkGraph(WAN, p, { first: false, frames: 4, height: 32, width: 32 });
  decodeChunkGraph(WAN, p, { first: false, frames: 1, height: 32, width: 32 });
  const want = new Map(vaeParams(WAN).map((s) => [s.name, s.shape]));
  assert.equal(p.requested.size, 196);
  for (const [name, shape] of p.requested) assert.deepEqual(shape, want.get(name), name);
});

test('bad inputs fail at build time with a ShapeError naming the op and shapes', () => {
  const p = new InputWeightProvider();
  const stats = latentStats(TINY.vae);
  // Wrong channel counts.
  const g1 = new Graph();
  const ctx1 = new VaeContext(g1, p, 'first', 'float32');
  assert.throws(() => vaeEncoder(ctx1, TINY.vae, g1.input('x', 'float32', [1, 4, 1, 32, 32]), stats), isShapeError('VAE encode', '[1,4,1,32,32]'));
  const g2 = new Graph();
  const ctx2 = new VaeContext(g2, p, 'first', 'float32');
  assert.throws(() => vaeDecoder(ctx2, TINY.vae, g2.input('z', 'float32', [1, 6, 1, 2, 2]), stats), isShapeError('VAE decode', '[1,6,1,2,2]'));
  // Whole-clip frame counts that are not 4n+1, and later chunks that are not 4k.
  assert.throws(() => encodeChunkGraph(TINY.vae, p, { first: true, frames: 6, height: 32, width: 32 }), isShapeError('VAE frames', '[6]', '4·n + 1'));
  assert.throws(() => encodeChunkGraph(TINY.vae, p, { first: false, frames: 3, height: 32, width: 32 }), isShapeError('VAE encode', '[3]'));
  // Sizes that are not multiples of 16.
  assert.throws(() => decodeChunkGraph(TINY.vae, p, { first: true, frames: 1, height: 24, width: 32 }), isShapeError('VAE size', '[24,32]'));
  // A checkpoint of another architecture: the first mismatching weight is named with both shapes.
  const wrong = new MapWeightProvider(randomWeights(vaeParams({ ...TINY.vae, encDim: 4 }), 1), 'test.safetensors');
  assert.throws(() => encodeChunkGraph(TINY.vae, wrong, { first: true, frames: 1, height: 32, width: 32 }), isShapeError('weight', 'encoder.conv1.weight', '[4,12,3,3,3]', '[8,12,3,3,3]'));
});
