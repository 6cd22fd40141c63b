// Per-channel latent normalisation (wan2.2-ti2v-5b.md §2.2). The 48 means and stds are hard-coded in
// the official vae2_2.py (not stored in the checkpoint): encode gives (mu − mean)/std, decode takes
// z·std + mean. Other latent widths (the tiny test model) default to the identity.
import { ShapeError } from '../../graph/errors.js';
import type { VaeConfig } from '../config.js';

export interface LatentStats {
  mean: readonly number[];
  std: readonly number[];
}

export const WAN22_LATENT_MEAN: readonly number[] = [
  -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557, -0.1382, 0.0542, 0.2813, 0.0891, 0.157, -0.0098, 0.0375, -0.1825, -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502, -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.123, -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.052, 0.3748, 0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
];

export const WAN22_LATENT_STD: readonly number[] = [
  0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.499, 0.4818, 0.5013, 0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978, 0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659, 0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093, 0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887, 0.3971, 1.06, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
];

/** The official statistics for z_dim 48; mean 0 / std 1 for any other width unless given. */
export function latentStats(cfg: VaeConfig, override?: LatentStats): LatentStats {
  const stats = override ?? (cfg.zDim === 48 ? { mean: WAN22_LATENT_MEAN, std: WAN22_LATENT_STD } : { mean: new Array<number>(cfg.zDim).fill(0), std: new Array<number>(cfg.zDim).fill(1) });
  if (stats.mean.length !== cfg.zDim || stats.std.length !== cfg.zDim) {
    throw new ShapeError('latent stats', [[stats.mean.length], [stats.std.length]], `need ${cfg.zDim} means and stds (z_dim)`);
  }
  if (stats.std.some((s) => !(s > 0))) throw new ShapeError('latent stats', [[stats.std.length]], 'every std must be > 0');
  return stats;
}
