// The built-in demo model "refree-mini-untrained" (DESIGN 5, until the trained refree-mini lands): a
// small ReFree-S2V of the same architecture as the 5B model, described by assets/demo/refree-mini-untrained.json.
// Its weights are NOT committed: they are deterministic random numbers (seeded per component, see
// random-weights.ts), so they are generated at first use into the cache folder as an ordinary model
// package (refree.json + safetensors files with their SHA-256s) and every later run opens that package
// like any other. The folder name carries a hash of the spec, so editing the spec makes a new package.
// Generation is atomic: files go to a temporary folder that is renamed into place when complete, so an
// interrupted first run never leaves a half-made package behind.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelArchitecture } from '../model/config.js';
import { ditParams } from '../model/inventory/dit.js';
import type { ParamSpec } from '../model/inventory/types.js';
import { vaeParams } from '../model/inventory/vae.js';
import type { FileEntry, Manifest } from '../model/package/manifest.js';
import { MANIFEST_FILE, writeManifest } from '../model/package/manifest.js';
import { hashFile } from '../model/package/hash.js';
import { randomWeights } from '../model/random-weights.js';
import { refreeConfigFor } from '../model/refree/config.js';
import type { ReFreeConfig } from '../model/refree/config.js';
import { refreeParams } from '../model/refree/params.js';
import { seededNormal } from '../model/random-weights.js';
import { DEFAULT_MEL } from '../model/speech/mel.js';
import type { MelFrontEnd } from '../model/speech/front-end.js';
import { writeSafetensors } from '../model/weights/safetensors.js';
import type { GenerationDefaults } from './defaults.js';
import { GENERATION_DEFAULTS_FILE } from './defaults.js';

export const DEMO_MODEL_NAME = 'refree-mini-untrained';
export const DEMO_NOTICE = 'untrained demo model of the ReFree-S2V architecture: expect noise, not a face (fine-tune a model with `refree train`, or use a trained package)';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ASSETS_DEMO_DIR = path.resolve(here, '..', '..', 'assets', 'demo');
export const DEMO_SPEC_FILE = path.join(ASSETS_DEMO_DIR, `${DEMO_MODEL_NAME}.json`);

export interface DemoSpec {
  name: string;
  version: string;
  description: string;
  architecture: ModelArchitecture;
  refree: Pick<ReFreeConfig, 'speechDim' | 'hidden' | 'mlpHidden' | 'kernelSizes'>;
  speechFrontEnd: { kind: 'log-mel'; nMels: number; context: number; resample: 'area' | 'linear' };
  seeds: { dit: number; vae: number; refree: number; textContext: number };
  generation: GenerationDefaults;
}

/** Cache root: $REFREE_CACHE_DIR, else ~/.cache/refree (XDG_CACHE_HOME honoured). */
export function cacheRoot(): string {
  if (process.env.REFREE_CACHE_DIR) return path.resolve(process.env.REFREE_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? path.resolve(xdg) : path.join(os.homedir(), '.cache'), 'refree');
}

export async function readDemoSpec(file = DEMO_SPEC_FILE): Promise<{ spec: DemoSpec; hash: string }> {
  const text = await readFile(file, 'utf8');
  const spec = JSON.parse(text) as DemoSpec;
  return { spec, hash: createHash('sha256').update(JSON.stringify(spec)).digest('hex') };
}

export function demoFrontEnd(spec: DemoSpec): MelFrontEnd {
  return { kind: 'log-mel', mel: { ...DEFAULT_MEL, nMels: spec.speechFrontEnd.nMels }, context: spec.speechFrontEnd.context, resample: spec.speechFrontEnd.resample };
}

export function demoRefreeConfig(spec: DemoSpec): ReFreeConfig {
  return refreeConfigFor(spec.architecture.dit, { ...spec.refree });
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeComponent(dir: string, file: string, specs: readonly ParamSpec[], seed: number, scale = 1): Promise<FileEntry> {
  const w = randomWeights(specs, seed, scale);
  const abs = path.join(dir, file);
  await writeSafetensors(
    abs,
    specs.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: f32Bytes((w.get(p.name)!.data as { kind: 'inline'; data: Float32Array }).data) })),
    { metadata: { generator: 'refree demo-model', seed: String(seed) } },
  );
  const h = await hashFile(abs);
  return { path: file, format: 'safetensors', keyLayout: 'original', dtype: 'F32', bytes: h.bytes, sha256: h.sha256, tensors: specs.length };
}

/**
 * The demo package folder, generated on first use (about a second). Returns its path; later calls
 * only check that refree.json is there.
 */
export async function ensureDemoPackage(opts: { root?: string; specFile?: string } = {}): Promise<string> {
  const { spec, hash } = await readDemoSpec(opts.specFile);
  const root = opts.root ?? path.join(cacheRoot(), 'models');
  const dir = path.join(root, `${spec.name}-${hash.slice(0, 12)}`);
  if (await exists(path.join(dir, MANIFEST_FILE))) return dir;
  await mkdir(root, { recursive: true });
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(tmp, { recursive: true });
  try {
    const arch = spec.architecture;
    const refree = demoRefreeConfig(spec);
    const dit = await writeComponent(tmp, 'dit.safetensors', ditParams(arch.dit), spec.seeds.dit);
    const vae = await writeComponent(tmp, 'vae.safetensors', vaeParams(arch.vae), spec.seeds.vae);
    const ad = await writeComponent(tmp, 'refree.safetensors', refreeParams(refree), spec.seeds.refree);
    // The learned constant text context (no T5): one [1, textLen, textDim] tensor named `context`.
    const ctxFile = 'text-context.safetensors';
    const ctx = seededNormal(arch.dit.textLen * arch.dit.textDim, spec.seeds.textContext, 1);
    await writeSafetensors(path.join(tmp, ctxFile), [{ name: 'context', dtype: 'F32', shape: [1, arch.dit.textLen, arch.dit.textDim], data: f32Bytes(ctx) }]);
    const ch = await hashFile(path.join(tmp, ctxFile));
    const fe = demoFrontEnd(spec);
    const manifest: Manifest = {
      format: 'refree-package/1',
      name: spec.name,
      version: spec.version,
      architecture: arch as Manifest['architecture'],
      components: {
        dit: { keyLayout: 'original', files: [dit] },
        vae: { keyLayout: 'original', files: [vae] },
        refree: { keyLayout: 'original', config: refree as unknown as Exclude<NonNullable<Manifest['components']['refree']>['config'], string>, files: [ad] },
        speechFrontEnd: { kind: 'log-mel', config: { ...fe } as unknown as Record<string, unknown>, files: [] },
        textContext: { files: [{ path: ctxFile, format: 'safetensors', keyLayout: 'none', dtype: 'F32', bytes: ch.bytes, sha256: ch.sha256, tensors: 1 }] },
      },
      created: new Date(0).toISOString(),
      notes: [DEMO_NOTICE, `generated from ${path.basename(DEMO_SPEC_FILE)} (spec sha256 ${hash})`],
    };
    await writeManifest(tmp, manifest);
    await writeFile(path.join(tmp, GENERATION_DEFAULTS_FILE), `${JSON.stringify(spec.generation, null, 2)}\n`);
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
