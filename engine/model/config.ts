// Architecture configs. Every size in the network comes from here, so the same code builds the tiny
// test model, the built-in demo model and the 5B Wan2.2 model (wan2.2-ti2v-5b.md §1.1, §2.1, §3).

export interface DitConfig {
  inDim: number; // latent channels (= VAE z_dim)
  outDim: number;
  patch: readonly [number, number, number]; // (t, h, w)
  dim: number;
  ffnDim: number;
  heads: number;
  layers: number;
  freqDim: number; // sinusoidal timestep width
  textDim: number; // width of the text context fed to text_embedding
  textLen: number; // context rows (all attended, padding included)
  eps: number;
  // Options of the official WanModel that the engine implements one way only; declared so a config can
  // state them, and any other value is refused by name (engine/model/package/arch-options.ts).
  modelType?: 'ti2v'; // model_type: 't2v' | 'i2v' | 's2v' are other pipelines
  qkNorm?: true; // qk_norm: RMSNorm on q and k over the full width
  crossAttnNorm?: true; // cross_attn_norm: norm3 is an affine LayerNorm
  windowSize?: readonly [-1, -1]; // window_size: global attention
}

export interface VaeConfig {
  zDim: number;
  encDim: number; // 160
  decDim: number; // 256
  dimMult: readonly number[]; // [1,2,4,4]
  numResBlocks: number; // 2
  temporalDownsample: readonly boolean[]; // [false,true,true]
  /** Space-to-depth factor applied to pixels before conv1 (Wan2.2: 2). */
  pixelPatch: number;
  /** attn_scales of the official WanVAE_: attention only in the middle blocks (empty list). */
  attnScales?: readonly number[];
}

export interface T5Config {
  vocab: number;
  dim: number;
  ffnDim: number;
  heads: number;
  layers: number;
  numBuckets: number;
  /** dim_attn of the official T5 (q/k/v width; umT5-XXL: = dim). */
  dimAttn?: number;
  /** shared_pos: one relative-position table for all layers (umT5: false, one per layer). */
  sharedPos?: false;
}

export interface ModelArchitecture {
  name: string;
  dit: DitConfig;
  vae: VaeConfig;
  t5: T5Config | null; // null: the model uses a learned constant text context instead
}

export const WAN22_TI2V_5B: ModelArchitecture = {
  name: 'wan2.2-ti2v-5b',
  dit: { inDim: 48, outDim: 48, patch: [1, 2, 2], dim: 3072, ffnDim: 14336, heads: 24, layers: 30, freqDim: 256, textDim: 4096, textLen: 512, eps: 1e-6, modelType: 'ti2v', qkNorm: true, crossAttnNorm: true, windowSize: [-1, -1] },
  vae: { zDim: 48, encDim: 160, decDim: 256, dimMult: [1, 2, 4, 4], numResBlocks: 2, temporalDownsample: [false, true, true], pixelPatch: 2, attnScales: [] },
  t5: { vocab: 256384, dim: 4096, ffnDim: 10240, heads: 64, layers: 24, numBuckets: 32, dimAttn: 4096, sharedPos: false },
};

/** A few-hundred-kilobyte model of the same architecture, for tests. */
export const TINY: ModelArchitecture = {
  name: 'tiny',
  dit: { inDim: 8, outDim: 8, patch: [1, 2, 2], dim: 48, ffnDim: 96, heads: 4, layers: 2, freqDim: 16, textDim: 32, textLen: 8, eps: 1e-6 },
  vae: { zDim: 8, encDim: 8, decDim: 16, dimMult: [1, 2, 2, 2], numResBlocks: 1, temporalDownsample: [false, true, true], pixelPatch: 2 },
  t5: { vocab: 64, dim: 32, ffnDim: 64, heads: 4, layers: 2, numBuckets: 8 },
};

export const ARCHITECTURES: Readonly<Record<string, ModelArchitecture>> = {
  [WAN22_TI2V_5B.name]: WAN22_TI2V_5B,
  [TINY.name]: TINY,
};
