// Does per-frame mouth motion survive the VAE? A synthetic clip is encoded and decoded chunk by chunk
// exactly as generation decodes (VaeRunner: frame 0, then s frames per latent frame) and written as an
// MP4 with the clip's own sound, so `refree eval <out> --truth <clip>.json` measures the mouth opening
// of the reconstruction against the truth (the same measure the generated videos get).
import type { VaeConfig } from '../../model/config.js';
import { vaeParams } from '../../model/inventory/vae.js';
import { VaeRunner } from '../../model/vae/run.js';
import { latentFrameCount, temporalFactor } from '../../model/vae/geometry.js';
import { MapWeightProvider } from '../../model/weight-provider.js';
import type { WeightEntry } from '../../model/weight-provider.js';
import { SafetensorsFile } from '../../model/weights/safetensors.js';
import { VideoWriter } from '../../media/video-writer.js';
import { readRateFrames } from '../prepare/frames.js';

async function readVae(cfg: VaeConfig, file: string): Promise<Map<string, WeightEntry>> {
  const st = await SafetensorsFile.open(file);
  try {
    const m = new Map<string, WeightEntry>();
    for (const p of vaeParams(cfg)) m.set(p.name, { dtype: 'float32', shape: p.shape, data: { kind: 'inline', data: Float32Array.from(await st.readF32(p.name)) } });
    return m;
  } finally {
    await st.close();
  }
}

/** Writes the VAE reconstruction of `clip` (its first s·n + 1 frames at `size`) to `out`; returns the frame count. */
export async function writeReconstruction(cfg: VaeConfig, vaeFile: string, clip: string, out: string, size: number, fps = 15): Promise<number> {
  const frames: Uint8Array[] = [];
  for await (const f of readRateFrames(clip, { fps, width: size, height: size })) frames.push(f.data);
  const s = temporalFactor(cfg);
  const t = frames.length - ((frames.length - 1) % s);
  latentFrameCount(cfg, t);
  const plane = size * size;
  const px = new Float32Array(3 * t * plane);
  for (let k = 0; k < t; k++) for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) px[(c * t + k) * plane + i] = frames[k]![i * 3 + c]! / 127.5 - 1;
  const runner = new VaeRunner(cfg, new MapWeightProvider(await readVae(cfg, vaeFile)), { height: size, width: size, keepSessions: true });
  const writer = await VideoWriter.open({ output: out, width: size, height: size, fps, audio: { kind: 'file', path: clip, start: 0, end: t / fps }, crf: 16, preset: 'fast', expectedFrames: t });
  try {
    const latent = await runner.encode({ data: px, shape: [1, 3, t, size, size] });
    for await (const chunk of runner.decodeChunks(latent)) {
      const n = chunk.shape[2];
      for (let k = 0; k < n; k++) {
        const rgb = new Uint8Array(plane * 3);
        for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round((chunk.data[(c * n + k) * plane + i]! + 1) * 127.5)));
        await writer.writeFrame(rgb);
      }
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await runner.release();
  }
  return t;
}
