// The chunked VAE (one graph run per chunk, caches carried by run.ts) against (1) the whole-clip graphs
// (all frames at once, causal zero padding, time_convs over the whole sequence) and (2) the official
// Wan2.2 PyTorch code run on the same tiny random weights (testdata/w22-tiny-reference.json, made by
// testdata/dump-tiny-vae.ts + make-w22-reference.py).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TINY } from '../config.js';
import { vaeParams } from '../inventory/vae.js';
import { randomWeights } from '../random-weights.js';
import { MapWeightProvider } from '../weight-provider.js';
import { CompiledGraph } from '../../runtime/session.js';
import { decodeChunkGraph } from './decoder.js';
import { encodeChunkGraph } from './encoder.js';
import type { ChunkGraphOptions } from './encoder.js';
import type { Clip } from './run.js';
import { VaeRunner, concatFrames, sliceFrames } from './run.js';

interface Reference {
  seed: number;
  frames: number;
  height: number;
  width: number;
  stats: { mean: number[]; std: number[] };
  latentShape: number[];
  latent: number[];
  decodedStride: number;
  decodedSample: number[];
  decodedSum: number;
  decodedAbsSum: number;
}
const ref = JSON.parse(readFileSync(new URL('./testdata/w22-tiny-reference.json', import.meta.url), 'utf8')) as Reference;
const cfg = TINY.vae;
const { frames: T, height: H, width: W } = ref;
const provider = new MapWeightProvider(randomWeights(vaeParams(cfg), ref.seed));
const pixels: Clip = { data: Float32Array.from({ length: 3 * T * H * W }, (_, i) => Math.sin(i * 0.37) * 0.9), shape: [1, 3, T, H, W] };
const refLatent: Clip = { data: Float32Array.from(ref.latent), shape: ref.latentShape as Clip['shape'] };
// Default session policy: one session alive at a time (first-chunk session released before the next).
const runner = new VaeRunner(cfg, provider, { height: H, width: W, stats: ref.stats });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Runs one graph variant once (whole clip or a custom chunk) and returns its named outputs. */
async function runOnce(kind: 'encode' | 'decode', o: ChunkGraphOptions, feeds: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const built = kind === 'encode' ? encodeChunkGraph(cfg, provider, { ...o, stats: ref.stats }) : decodeChunkGraph(cfg, provider, { ...o, stats: ref.stats });
  const s = await CompiledGraph.fromGraph(built.graph);
  try {
    return (await s.run(feeds)) as Record<string, Float32Array>;
  } finally {
    await s.release();
  }
}

let chunkedLatent: Clip;
let wholeLatent: Float32Array;
before(async () => {
  chunkedLatent = await runner.encode(pixels);
  wholeLatent = (await runOnce('encode', { first: true, frames: T, height: H, width: W }, { pixels: pixels.data })).latent!;
});
after(() => runner.release());

test('encode: 4n+1 = 9 frames give n+1 = 3 latent frames; chunked equals whole-clip to 1e-5', () => {
  assert.deepEqual(chunkedLatent.shape, [1, cfg.zDim, 3, 2, 2]);
  const d = maxAbsDiff(chunkedLatent.data, wholeLatent);
  assert.ok(d <= 1e-5, `chunked vs whole max |diff| ${d}`);
  assert.ok(Math.max(...Array.from(wholeLatent, Math.abs)) > 0.1, 'latent is not trivially small');
});

test('encode matches the official Wan2.2 code (chunked PyTorch) on the same weights', () => {
  const d1 = maxAbsDiff(chunkedLatent.data, ref.latent);
  const d2 = maxAbsDiff(wholeLatent, ref.latent);
  assert.ok(d1 <= 2e-5 && d2 <= 2e-5, `chunked ${d1}, whole ${d2}`);
});

test('encode with a larger later chunk (8 frames -> 2 latent frames) gives the same latents', async () => {
  const first = await runOnce('encode', { first: true, frames: 1, height: H, width: W }, { pixels: sliceFrames(pixels, 0, 1).data });
  const feeds: Record<string, Float32Array> = { pixels: sliceFrames(pixels, 1, 8).data };
  for (const [k, v] of Object.entries(first)) if (k.startsWith('cache_out.')) feeds[`cache_in.${k.slice('cache_out.'.length)}`] = v;
  const rest = await runOnce('encode', { first: false, frames: 8, height: H, width: W }, feeds);
  const z = concatFrames([
    { data: first.latent!, shape: [1, cfg.zDim, 1, 2, 2] },
    { data: rest.latent!, shape: [1, cfg.zDim, 2, 2, 2] },
  ]);
  const d = maxAbsDiff(z.data, wholeLatent);
  assert.ok(d <= 1e-5, `max |diff| ${d}`);
});

test('decode: 3 latent frames give 9 pixel frames in chunks of 1, 4, 4; chunked equals whole-clip to 1e-5', async () => {
  const chunks: Clip[] = [];
  for await (const c of runner.decodeChunks(refLatent)) chunks.push(c);
  assert.deepEqual(chunks.map((c) => c.shape[2]), [1, 4, 4]);
  const chunked = concatFrames(chunks);
  assert.deepEqual(chunked.shape, [1, 3, T, H, W]);
  const whole = (await runOnce('decode', { first: true, frames: 3, height: H, width: W }, { latent: refLatent.data })).pixels!;
  const d = maxAbsDiff(chunked.data, whole);
  assert.ok(d <= 1e-5, `chunked vs whole max |diff| ${d}`);
  assert.ok(Math.max(...Array.from(whole, Math.abs)) <= 1, 'clamped to [-1, 1]');

  // The official code's chunked decode of the same latent (sampled every `decodedStride` values).
  const sample = Array.from({ length: ref.decodedSample.length }, (_, i) => chunked.data[i * ref.decodedStride]!);
  const ds = maxAbsDiff(sample, ref.decodedSample);
  assert.ok(ds <= 2e-5, `vs PyTorch max |diff| ${ds}`);
  let sum = 0;
  let absSum = 0;
  for (const v of chunked.data) {
    sum += v;
    absSum += Math.abs(v);
  }
  assert.ok(Math.abs(sum - ref.decodedSum) < 1e-2 && Math.abs(absSum - ref.decodedAbsSum) < 1e-2, `sums ${sum}/${absSum} vs ${ref.decodedSum}/${ref.decodedAbsSum}`);
});

test('sliceFrames / concatFrames round trip on a [2, 2, 5, 1, 2] clip', () => {
  const clip: Clip = { data: Float32Array.from({ length: 40 }, (_, i) => i), shape: [2, 2, 5, 1, 2] };
  const parts = [sliceFrames(clip, 0, 1), sliceFrames(clip, 1, 4)];
  assert.deepEqual(Array.from(parts[0]!.data), [0, 1, 10, 11, 20, 21, 30, 31]);
  assert.deepEqual(Array.from(concatFrames(parts).data), Array.from(clip.data));
});
