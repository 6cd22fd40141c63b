// The manifest of a small ReFree-S2V package that this program writes itself (the random-weights test
// package, the refree-mini base package that training starts from): one place that spells out its
// components, so every such package is read by the same loader the same way; the learned text context
// they start with; and a safetensors file's manifest entry (size and SHA-256), which every package
// writer (these two, training adapters, merges) records.
import path from 'node:path';
import type { ModelArchitecture } from '../config.js';
import type { ReFreeConfig } from '../refree/config.js';
import { seededNormal } from '../random-weights.js';
import type { MelFrontEnd } from '../speech/front-end.js';
import { DEFAULT_MEL } from '../speech/mel.js';
import { writeSafetensors } from '../weights/safetensors.js';
import { hashFile } from './hash.js';
import type { FileEntry, KeyLayout, Manifest } from './manifest.js';
import { MANIFEST_FORMAT } from './manifest.js';

/** The manifest entry of a float32 safetensors file inside `dir` (hashes the file). */
export async function safetensorsEntry(dir: string, file: string, tensors: number, keyLayout: KeyLayout = 'original'): Promise<FileEntry> {
  const h = await hashFile(path.join(dir, file));
  return { path: file, format: 'safetensors', keyLayout, dtype: 'F32', bytes: h.bytes, sha256: h.sha256, tensors };
}

export const TEXT_CONTEXT_FILE = 'text-context.safetensors';

/**
 * The learned constant text context that stands in for T5 in a small package: one [1, textLen, textDim]
 * tensor named `context`, seeded-normal at the start (training learns it).
 */
export async function writeTextContext(dir: string, arch: ModelArchitecture, seed: number): Promise<FileEntry> {
  const ctx = seededNormal(arch.dit.textLen * arch.dit.textDim, seed, 1);
  const data = new Uint8Array(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  await writeSafetensors(path.join(dir, TEXT_CONTEXT_FILE), [{ name: 'context', dtype: 'F32', shape: [1, arch.dit.textLen, arch.dit.textDim], data }]);
  return safetensorsEntry(dir, TEXT_CONTEXT_FILE, 1, 'none');
}

/** A small package's speech front-end as its spec states it: log-mel with nMels bands, `context` sub-steps. */
export function logMelFrontEnd(s: { nMels: number; context: number; resample: 'area' | 'linear' }): MelFrontEnd {
  return { kind: 'log-mel', mel: { ...DEFAULT_MEL, nMels: s.nMels }, context: s.context, resample: s.resample };
}

export interface SmallPackageParts {
  name: string;
  version: string;
  architecture: ModelArchitecture;
  refree: ReFreeConfig;
  frontEnd: MelFrontEnd;
  files: { dit: FileEntry; vae: FileEntry; refree: FileEntry; textContext: FileEntry };
  created: string;
  notes: string[];
}

/** A complete package manifest: DiT, VAE, speech modules, log-mel front-end and text context, no T5. */
export function smallPackageManifest(p: SmallPackageParts): Manifest {
  return {
    format: MANIFEST_FORMAT,
    name: p.name,
    version: p.version,
    architecture: p.architecture as Manifest['architecture'],
    components: {
      dit: { keyLayout: 'original', files: [p.files.dit] },
      vae: { keyLayout: 'original', files: [p.files.vae] },
      refree: { keyLayout: 'original', config: p.refree as unknown as Exclude<NonNullable<Manifest['components']['refree']>['config'], string>, files: [p.files.refree] },
      speechFrontEnd: { kind: 'log-mel', config: { ...p.frontEnd } as unknown as Record<string, unknown>, files: [] },
      textContext: { files: [p.files.textContext] },
    },
    created: p.created,
    notes: p.notes,
  };
}
