// Times the untrained refree-mini candidates on this machine (the architecture decision in
// docs/TRAINING.md "refree-mini"): VAE decode per pixel frame and one DiT forward per latent frame,
// for several VAE temporal strides. Run: node --import tsx engine/train/vae/measure-arch.ts
import { randomWeights } from '../../model/random-weights.js';
import { MapWeightProvider } from '../../model/weight-provider.js';
import { vaeParams } from '../../model/inventory/vae.js';
import { ditParams } from '../../model/inventory/dit.js';
import { decodeChunkGraph } from '../../model/vae/decoder.js';
import { CompiledGraph } from '../../runtime/session.js';
import type { DitConfig, VaeConfig } from '../../model/config.js';
import { refreeConfigFor } from '../../model/refree/config.js';
import { refreeInitWeights, refreeParams } from '../../model/refree/params.js';
import { buildReFreeGraph } from '../../model/refree/model.js';
import { latentSize } from '../../model/vae/geometry.js';

const size = 128;
async function timeRun(s: CompiledGraph, feeds: Record<string, Float32Array>, reps: number): Promise<number> {
  await s.run(feeds);
  const t = performance.now();
  for (let i = 0; i < reps; i++) await s.run(feeds);
  return (performance.now() - t) / reps;
}

async function vae(name: string, cfg: VaeConfig, latentFrames: number): Promise<void> {
  const p = new MapWeightProvider(randomWeights(vaeParams(cfg), 1));
  const lat = latentSize(cfg, size, size);
  const built = decodeChunkGraph(cfg, p, { first: true, frames: latentFrames, height: size, width: size });
  const s = await CompiledGraph.fromGraph(built.graph, { outputs: built.graph.outputs });
  const ms = await timeRun(s, { latent: new Float32Array(cfg.zDim * latentFrames * lat.height * lat.width) }, 2);
  const px = built.output.shape[2]!;
  console.log(`${name}: decode ${latentFrames} latent → ${px} frames ${ms.toFixed(0)} ms = ${(ms / px).toFixed(1)} ms/frame; latent ${lat.height}x${lat.width}x${cfg.zDim}`);
  await s.release();
}

async function dit(name: string, cfg: DitConfig, stride: number, frames: number, h: number): Promise<void> {
  const refree = refreeConfigFor(cfg, { speechDim: 40, hidden: 64, mlpHidden: 128, kernelSizes: [1, 5, 15], temporalStride: stride, window: { past: Math.ceil(4 / stride), future: Math.ceil(2 / stride) } });
  const w = randomWeights(ditParams(cfg), 2);
  for (const [k, v] of refreeInitWeights(refree, 3)) w.set(k, v);
  void refreeParams;
  const g = buildReFreeGraph(cfg, refree, new MapWeightProvider(w), { batch: 1, frames, h, w: h });
  const s = await CompiledGraph.fromGraph(g, { outputs: g.outputs });
  const Tv = stride * (frames - 1) + 1;
  const ms = await timeRun(s, { latents: new Float32Array(cfg.inDim * frames * h * h), timesteps: new Float32Array(frames), context: new Float32Array(cfg.textLen * cfg.textDim), speech_features: new Float32Array(Tv * 40) }, 3);
  console.log(`${name}: DiT forward ${frames} latent frames (${Tv} video) ${ms.toFixed(1)} ms = ${(ms / (Tv - 1 || 1)).toFixed(2)} ms per video frame per step`);
  await s.release();
}

const base = { zDim: 16, encDim: 16, decDim: 24, numResBlocks: 1, pixelPatch: 2 } as const;
const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'vae') {
  await vae('p4 s8 t2 d32', { ...base, pixelPatch: 4, encDim: 32, decDim: 32, dimMult: [1, 2], temporalDownsample: [true] }, 5);
  await vae('p4 s8 t2 d24', { ...base, pixelPatch: 4, encDim: 24, decDim: 24, dimMult: [1, 2], temporalDownsample: [true] }, 5);
  await vae('p2 s8 t2 d16', { ...base, decDim: 16, dimMult: [1, 2, 2], temporalDownsample: [false, true] }, 5);
  await vae('s8 t1', { ...base, dimMult: [1, 2, 2], temporalDownsample: [false, false] }, 9);
  await vae('s8 t2', { ...base, dimMult: [1, 2, 2], temporalDownsample: [false, true] }, 5);
  await vae('s8 t4', { ...base, dimMult: [1, 2, 2], temporalDownsample: [true, true] }, 3);
  await vae('s16 t4 (untrained demo)', { zDim: 16, encDim: 8, decDim: 8, dimMult: [1, 2, 2, 2], temporalDownsample: [false, true, true], pixelPatch: 2, numResBlocks: 1 }, 3);
}
if (which === 'all' || which === 'dit') {
  const d: DitConfig = { inDim: 16, outDim: 16, patch: [1, 2, 2], dim: 128, ffnDim: 384, heads: 4, layers: 6, freqDim: 64, textDim: 32, textLen: 4, eps: 1e-6 };
  await dit('dim128 L6 s8 t1', d, 1, 9, 16);
  await dit('dim128 L6 s8 t2', d, 2, 9, 16);
  await dit('dim128 L6 s8 t4', d, 4, 9, 16);
}
