// `refree run vae-encode | vae-decode`: the Wan2.2 VAE over a whole clip, chunk by chunk (VaeRunner),
// with the package's weights referenced from the engine cache.
//
//   vae-encode: video   [B, 3, T, H, W] in [-1, 1], T = 4n+1, H and W multiples of 16
//               -> latents [B, zDim, n+1, H/16, W/16], normalised with the latent mean/std
//   vae-decode: latents [B, zDim, F, h, w] (normalised) -> video [B, 3, 4(F-1)+1, 16h, 16w] in [-1, 1]
// (16 and 4 are the Wan2.2 factors; other architectures use their own, see vae/geometry.ts.)
import type { Graph } from '../../graph/graph.js';
import { vaeParams } from '../inventory/vae.js';
import { bucketName, compileInCache } from '../package/engine-cache.js';
import type { ModelSource } from '../package/source.js';
import { latentFrameCount, latentSize, spatialFactor } from '../vae/geometry.js';
import type { Clip } from '../vae/run.js';
import { VaeRunner } from '../vae/run.js';
import type { HostTensor, RunInfo, RunOptions } from './common.js';
import { RunError, chooseBackend, componentWeights, fmtShape } from './common.js';

export type VaeMode = 'encode' | 'decode';

export interface VaeRunResult extends RunInfo {
  /** `latents` (encode) or `video` (decode). */
  output: Float32Array;
  shape: number[];
}

export interface VaeRunOptions extends RunOptions {
  /** Middle attention form (default 'naive'). */
  attention?: 'naive' | 'fused';
}

function asClip(t: HostTensor, what: string, channels: number): Clip {
  if (t.shape.length !== 5 || t.shape[1] !== channels) throw new RunError(`${what} must be [B, ${channels}, frames, height, width], got ${fmtShape(t.shape)}`);
  return { data: t.data, shape: t.shape as Clip['shape'] };
}

export async function runVae(src: ModelSource, mode: VaeMode, input: HostTensor, opts: VaeRunOptions = {}): Promise<VaeRunResult> {
  const t0 = performance.now();
  const cfg = src.arch.vae;
  const s = spatialFactor(cfg);
  let clip: Clip;
  let height: number;
  let width: number;
  try {
    if (mode === 'encode') {
      clip = asClip(input, 'video', 3);
      [, , , height, width] = clip.shape;
      latentFrameCount(cfg, clip.shape[2]);
      latentSize(cfg, height, width);
    } else {
      clip = asClip(input, 'latents', cfg.zDim);
      height = clip.shape[3] * s;
      width = clip.shape[4] * s;
    }
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`${mode === 'encode' ? 'video' : 'latents'} ${fmtShape(input.shape)}: ${(e as Error).message}`);
  }
  const batch = clip.shape[0];
  const { backend, dtype, open, skipped } = await chooseBackend(opts);
  const prepared = await componentWeights(src, 'vae', vaeParams(cfg), dtype, opts);
  const engines = new Set<string>();
  let ran = backend;
  const extra: string[] = [];
  const attention = opts.attention ?? 'naive';
  const compile = async (g: Graph, variant: string) => {
    const o = await compileInCache(g, prepared.dir, `${backend}.vae-${variant}.${bucketName({ b: batch, h: height, w: width })}.${attention}`, open);
    engines.add(o.modelPath);
    ran = o.backend;
    extra.push(...o.skipped.map((x) => `skipped ${x}`));
    return o.session;
  };
  const runner = new VaeRunner(cfg, prepared.provider, { height, width, batch, attention, compile });
  try {
    const out = mode === 'encode' ? await runner.encode(clip) : await runner.decode(clip);
    return {
      output: out.data,
      shape: [...out.shape],
      backend: ran,
      dtype,
      engines: [...engines],
      weights: { inPlace: prepared.inPlace, converted: prepared.converted, writtenBytes: prepared.writtenBytes },
      notes: [...skipped.map((x) => `skipped ${x}`), ...prepared.notes, ...new Set(extra)],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await runner.release();
  }
}
