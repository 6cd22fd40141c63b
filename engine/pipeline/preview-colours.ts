// The live-preview map of an opened generation model (generate/preview-fit.ts), fitted against the
// package's own VAE sessions: the package hash names it, the package folder keeps it, the engine's
// cache folder keeps it when the package folder cannot be written, and crops of the sample avatar
// join the synthetic fit pictures.
import path from 'node:path';
import type { FitVae, PreviewProjection, PreviewProjectionOptions, PreviewStore } from '../generate/preview-fit.js';
import { previewProjection } from '../generate/preview-fit.js';
import { ASSETS_DEMO_DIR, cacheRoot } from './demo-model.js';
import type { GenerationModel } from './model.js';
import { VaeStream } from './model.js';

export const SAMPLE_AVATAR = path.join(ASSETS_DEMO_DIR, 'avatar.png');

/** The package's VAE as the fit needs it: one encoder session for every picture, a fresh decoder stream per latent. */
export function fitVaeOf(m: GenerationModel): FitVae {
  return {
    channels: m.channels,
    spatial: m.spatial,
    async encode(images, size) {
      const enc = await VaeStream.open(m, size);
      try {
        const out: Float32Array[] = [];
        for (const img of images) out.push(await enc.encodeFrame(img));
        return out;
      } finally {
        await enc.release();
      }
    },
    async decodeFirst(latent, size) {
      // A fresh stream: the decoder's causal caches must not carry one picture into the next.
      const dec = await VaeStream.open(m, size);
      try {
        return await dec.decodeNext(latent);
      } finally {
        await dec.release();
      }
    },
  };
}

export function previewStoreOf(m: GenerationModel): PreviewStore {
  return { hash: m.hash, dir: m.src.dir, cacheDir: path.join(cacheRoot(), 'previews') };
}

/** The model's live-preview map: read from its package (or the cache folder), else fitted now and saved. */
export function modelPreviewProjection(m: GenerationModel, opts: PreviewProjectionOptions = {}): Promise<PreviewProjection> {
  return previewProjection(previewStoreOf(m), fitVaeOf(m), { avatar: SAMPLE_AVATAR, ...opts });
}
