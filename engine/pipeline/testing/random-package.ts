// A model package with deterministic random weights, for tests that need *some* ReFree-S2V package and
// want it fast: "tiny-random" (tiny-random.json beside this file) has the built-in refree-mini's
// architecture at a quarter of its DiT width and a 2-pixel VAE patch, so a test generates, prepares
// clips and trains in seconds. Its weights are seeded per component (model/random-weights.ts): it makes
// noise, never a face, so tests assert names, shapes, files and determinism with it, not pictures.
// The package is written as an ordinary one (refree.json + safetensors with their SHA-256s +
// generation.json), atomically: into a temporary folder renamed into place, so an interrupted run never
// leaves half a package behind. By default it is cached under the engine's cache folder in a folder
// named after a hash of the spec (editing the spec makes a new package); `dir` writes it exactly there
// instead, e.g. into a studio data folder's models/ so that the studio lists it as an imported package.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelArchitecture } from '../../model/config.js';
import { ditParams } from '../../model/inventory/dit.js';
import type { ParamSpec } from '../../model/inventory/types.js';
import { vaeParams } from '../../model/inventory/vae.js';
import type { FileEntry } from '../../model/package/manifest.js';
import { MANIFEST_FILE, writeManifest } from '../../model/package/manifest.js';
import { logMelFrontEnd, safetensorsEntry, smallPackageManifest, writeTextContext } from '../../model/package/refree-manifest.js';
import { randomWeights } from '../../model/random-weights.js';
import { refreeConfigFor } from '../../model/refree/config.js';
import type { ReFreeConfig } from '../../model/refree/config.js';
import { refreeParams } from '../../model/refree/params.js';
import type { MelFrontEnd } from '../../model/speech/front-end.js';
import { writeSafetensors } from '../../model/weights/safetensors.js';
import type { GenerationDefaults } from '../defaults.js';
import { GENERATION_DEFAULTS_FILE } from '../defaults.js';
import { cacheRoot } from '../demo-model.js';

export const TINY_RANDOM_NAME = 'tiny-random';
export const TINY_RANDOM_SPEC_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), `${TINY_RANDOM_NAME}.json`);

export interface RandomPackageSpec {
  name: string;
  version: string;
  description: string;
  architecture: ModelArchitecture;
  refree: Pick<ReFreeConfig, 'speechDim' | 'hidden' | 'mlpHidden' | 'kernelSizes'>;
  speechFrontEnd: { kind: 'log-mel'; nMels: number; context: number; resample: 'area' | 'linear' };
  seeds: { dit: number; vae: number; refree: number; textContext: number };
  generation: GenerationDefaults;
}

export async function readRandomSpec(file = TINY_RANDOM_SPEC_FILE): Promise<{ spec: RandomPackageSpec; hash: string }> {
  const spec = JSON.parse(await readFile(file, 'utf8')) as RandomPackageSpec;
  return { spec, hash: createHash('sha256').update(JSON.stringify(spec)).digest('hex') };
}

export function randomFrontEnd(spec: RandomPackageSpec): MelFrontEnd {
  return logMelFrontEnd(spec.speechFrontEnd);
}

export function randomRefreeConfig(spec: RandomPackageSpec): ReFreeConfig {
  return refreeConfigFor(spec.architecture.dit, { ...spec.refree });
}

const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null)) !== null;
const f32Bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function writeComponent(dir: string, file: string, specs: readonly ParamSpec[], seed: number): Promise<FileEntry> {
  const w = randomWeights(specs, seed, 1);
  await writeSafetensors(
    path.join(dir, file),
    specs.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: f32Bytes((w.get(p.name)!.data as { kind: 'inline'; data: Float32Array }).data) })),
    { metadata: { generator: 'refree random-package', seed: String(seed) } },
  );
  return safetensorsEntry(dir, file, specs.length);
}

async function writePackage(out: string, spec: RandomPackageSpec, hash: string, specFile: string): Promise<void> {
  const arch = spec.architecture;
  const refree = randomRefreeConfig(spec);
  const files = {
    dit: await writeComponent(out, 'dit.safetensors', ditParams(arch.dit), spec.seeds.dit),
    vae: await writeComponent(out, 'vae.safetensors', vaeParams(arch.vae), spec.seeds.vae),
    refree: await writeComponent(out, 'refree.safetensors', refreeParams(refree), spec.seeds.refree),
    textContext: await writeTextContext(out, arch, spec.seeds.textContext),
  };
  const notes = [spec.description, `generated from ${path.basename(specFile)} (spec sha256 ${hash})`];
  await writeManifest(out, smallPackageManifest({ name: spec.name, version: spec.version, architecture: arch, refree, frontEnd: randomFrontEnd(spec), files, created: new Date(0).toISOString(), notes }));
  await writeFile(path.join(out, GENERATION_DEFAULTS_FILE), `${JSON.stringify(spec.generation, null, 2)}\n`);
}

/**
 * The random-weights package folder (tiny-random unless `specFile` names another spec), written on
 * first use in about a second; later calls only check that its refree.json is there.
 */
export async function tinyRandomPackage(opts: { root?: string; dir?: string; specFile?: string } = {}): Promise<string> {
  const specFile = opts.specFile ?? TINY_RANDOM_SPEC_FILE;
  const { spec, hash } = await readRandomSpec(specFile);
  const root = opts.root ?? path.join(cacheRoot(), 'models');
  const dir = opts.dir ? path.resolve(opts.dir) : path.join(root, `${spec.name}-${hash.slice(0, 12)}`);
  if (await exists(path.join(dir, MANIFEST_FILE))) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(tmp, { recursive: true });
  try {
    await writePackage(tmp, spec, hash, specFile);
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another process made it first: theirs is identical (same spec, deterministic weights).
      if (!(await exists(path.join(dir, MANIFEST_FILE)))) throw e;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}
