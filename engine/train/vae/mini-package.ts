// The refree-mini base package that the SFT stage starts from: the spec's architecture
// (assets/models/refree-mini/spec.json), the VAE trained by `refree train vae` (its latent statistics
// folded into the weights, finish.ts), and freshly initialised DiT, ReFree speech modules and learned
// text context. The DiT's output head starts at zero, so the untrained network predicts zero velocity
// and the first updates only have to grow it. Written atomically (a temporary folder renamed into place).
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelArchitecture } from '../../model/config.js';
import { ditParams } from '../../model/inventory/dit.js';
import { vaeParams } from '../../model/inventory/vae.js';
import type { FileEntry } from '../../model/package/manifest.js';
import { MANIFEST_FILE, writeManifest } from '../../model/package/manifest.js';
import { logMelFrontEnd, safetensorsEntry, smallPackageManifest, writeTextContext } from '../../model/package/refree-manifest.js';
import { randomWeights } from '../../model/random-weights.js';
import { refreeConfigFor } from '../../model/refree/config.js';
import type { ReFreeConfig } from '../../model/refree/config.js';
import { refreeInitWeights } from '../../model/refree/params.js';
import { SafetensorsFile, writeSafetensors } from '../../model/weights/safetensors.js';
import type { GenerationDefaults } from '../../pipeline/defaults.js';
import { GENERATION_DEFAULTS_FILE } from '../../pipeline/defaults.js';
import type { WeightEntry } from '../../model/weight-provider.js';

export interface MiniSpec {
  name: string;
  version: string;
  description: string;
  architecture: ModelArchitecture;
  refree: Partial<ReFreeConfig> & Pick<ReFreeConfig, 'speechDim' | 'hidden' | 'kernelSizes'>;
  speechFrontEnd: { kind: 'log-mel'; nMels: number; context: number; resample: 'area' | 'linear' };
  seeds: { dit: number; vae: number; refree: number; textContext: number };
  generation: GenerationDefaults;
}

/** The spec file beside a base package's manifest (and beside the shipped refree-mini). */
export const MINI_SPEC_FILE = 'spec.json';

export function miniRefreeConfig(spec: MiniSpec): ReFreeConfig {
  return refreeConfigFor(spec.architecture.dit, spec.refree);
}

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const dataOf = (e: WeightEntry): Float32Array => (e.data as { data: Float32Array }).data;

async function writeWeights(dir: string, file: string, w: Map<string, WeightEntry>, seed: number): Promise<FileEntry> {
  await writeSafetensors(
    path.join(dir, file),
    [...w].map(([name, e]) => ({ name, dtype: 'F32' as const, shape: e.shape, data: bytesOf(dataOf(e)) })),
    { metadata: { generator: 'refree train-mini', seed: String(seed) } },
  );
  return safetensorsEntry(dir, file, w.size);
}

/** Checks that a trained VAE file holds exactly the spec's VAE tensors. */
async function checkVae(spec: MiniSpec, file: string): Promise<void> {
  const st = await SafetensorsFile.open(file);
  try {
    for (const p of vaeParams(spec.architecture.vae)) {
      if (!st.has(p.name)) throw new Error(`${file} lacks the VAE tensor "${p.name}": it was trained for another VAE configuration than ${spec.name}'s spec`);
    }
  } finally {
    await st.close();
  }
}

/** Writes the base package into `outDir` (replacing nothing: refuses when it already has refree.json). */
export async function writeMiniPackage(spec: MiniSpec, vaeFile: string, outDir: string, notes: string[] = []): Promise<string> {
  if (await stat(path.join(outDir, MANIFEST_FILE)).catch(() => null)) return outDir;
  await checkVae(spec, vaeFile);
  const tmp = `${outDir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const arch = spec.architecture;
    const refree = miniRefreeConfig(spec);
    const ditW = randomWeights(ditParams(arch.dit), spec.seeds.dit);
    for (const name of ['head.head.weight', 'head.head.bias']) dataOf(ditW.get(name)!).fill(0);
    const dit = await writeWeights(tmp, 'dit.safetensors', ditW, spec.seeds.dit);
    await copyFile(vaeFile, path.join(tmp, 'vae.safetensors'));
    const files = {
      dit,
      vae: await safetensorsEntry(tmp, 'vae.safetensors', vaeParams(arch.vae).length),
      refree: await writeWeights(tmp, 'refree.safetensors', refreeInitWeights(refree, spec.seeds.refree), spec.seeds.refree),
      textContext: await writeTextContext(tmp, arch, spec.seeds.textContext),
    };
    const manifest = smallPackageManifest({ name: spec.name, version: spec.version, architecture: arch, refree, frontEnd: logMelFrontEnd(spec.speechFrontEnd), files, created: new Date().toISOString(), notes: [spec.description, ...notes] });
    await writeManifest(tmp, manifest);
    await writeFile(path.join(tmp, GENERATION_DEFAULTS_FILE), `${JSON.stringify(spec.generation, null, 2)}\n`);
    // The spec it was built from, so later steps on this run (e.g. the ablations) use the same architecture.
    await writeFile(path.join(tmp, MINI_SPEC_FILE), `${JSON.stringify(spec, null, 2)}\n`);
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return outDir;
}
