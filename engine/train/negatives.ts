// The negatives of masked-speech DPO: for each item (a clip window), the starting policy generates one
// sample per masking ratio from the SAME noise and the SAME reference frame, with random contiguous
// spans of the speech replaced by the learned null speech (the ratio of masked frames grows: 0 %, 20 %,
// 40 % by default). With everything else shared, the samples differ only in how much speech they were
// allowed to hear, which gives the ranking ground truth ≻ 0 % ≻ 20 % ≻ 40 % without any reward model.
// Generated once per run and cached in <run>/negatives/, keyed by what determines them.
import { createHash } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { sample } from '../generate/sampler.js';
import { SafetensorsFile, writeSafetensors } from '../model/weights/safetensors.js';
import type { CompiledGraph } from '../runtime/session.js';
import type { TrainData, WindowRef } from './data.js';
import { latentWindow, speechWindow } from './data.js';
import { noiseStream, speechSpanMask, stepRandom } from './regions.js';

export interface NegativeSettings {
  seed: number;
  frames: number;
  ratios: readonly number[];
  sampleSteps: number;
  shift: number;
}

export interface Tuple {
  item: WindowRef;
  /** [C, F, h, w] each: the ground truth first, then one sample per ratio. */
  latents: Float32Array[];
}

/** Every DPO item: whole windows of `frames` latent frames from each clip (at most `perClip`, 0 = all). */
export function dpoItems(d: TrainData, frames: number, perClip: number): WindowRef[] {
  const out: WindowRef[] = [];
  d.clips.forEach((c, clip) => {
    const n = Math.floor(c.latentShape[1] / frames);
    const take = perClip > 0 ? Math.min(perClip, n) : n;
    for (let i = 0; i < take; i++) out.push({ clip, start: i * frames });
  });
  return out;
}

export function negativesKey(s: NegativeSettings, startParams: Float32Array): string {
  return createHash('sha256')
    .update(JSON.stringify({ seed: s.seed, frames: s.frames, ratios: s.ratios, steps: s.sampleSteps, shift: s.shift }))
    .update(new Uint8Array(startParams.buffer, startParams.byteOffset, startParams.byteLength))
    .digest('hex');
}

/** One item's tuple, generated with `velocity` (params fixed inside) or read from the cache. */
export async function itemTuple(
  dir: string,
  key: string,
  d: TrainData,
  index: number,
  item: WindowRef,
  s: NegativeSettings,
  context: Float32Array,
  session: CompiledGraph,
  params: Float32Array,
  signal?: AbortSignal,
): Promise<Tuple> {
  const clip = d.clips[item.clip]!;
  const file = path.join(dir, `${clip.id}-${item.start}.safetensors`);
  const C = d.channels;
  const hw = d.h * d.w;
  const shape = [C, s.frames, d.h, d.w] as const;
  const gt = latentWindow(clip, item.start, s.frames);
  const cached = await SafetensorsFile.open(file).catch(() => null);
  if (cached) {
    try {
      if (cached.metadata.key === key && s.ratios.every((_, k) => cached.has(`neg_${k}`))) {
        const negs: Float32Array[] = [];
        for (let k = 0; k < s.ratios.length; k++) negs.push(Float32Array.from(await cached.readF32(`neg_${k}`)));
        return { item, latents: [gt, ...negs] };
      }
    } finally {
      await cached.close();
    }
  }
  const speech = speechWindow(clip, item.start, s.frames, d.stride);
  const Tv = d.stride * (s.frames - 1) + 1;
  const first = new Float32Array(C * hw);
  for (let c = 0; c < C; c++) first.set(gt.subarray(c * s.frames * hw, c * s.frames * hw + hw), c * hw);
  const negs: Float32Array[] = [];
  for (let k = 0; k < s.ratios.length; k++) {
    const mask = speechSpanMask(Tv, s.ratios[k]!, stepRandom(s.seed, index, `dpo-mask-${k}`));
    const r = await sample({
      steps: s.sampleSteps,
      shift: s.shift,
      solver: 'euler',
      seed: s.seed,
      noiseStream: noiseStream(index, 'dpo-item-noise'), // the same noise for every ratio
      latentShape: shape,
      firstFrameLatent: first,
      signal,
      velocity: async (x, time) => {
        const out = await session.run({ params, latents: x, timesteps: time.frameTimesteps, context, speech_features: speech, speech_mask: mask });
        return Float32Array.from(out.velocity as Float32Array);
      },
    });
    negs.push(r.latents);
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeSafetensors(tmp, negs.map((n, k) => ({ name: `neg_${k}`, dtype: 'F32' as const, shape, data: n })), { metadata: { key, ratios: s.ratios.join(',') } });
  await rename(tmp, file);
  return { item, latents: [gt, ...negs] };
}
