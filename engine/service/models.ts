// Model packages for the studio (DESIGN 4): imported packages live in <data>/models/<name>/, the
// built-in ones in the host's <assets>/models/, where the built-in model refree-mini ships. Tests and
// tools that need another package put it into <data>/models/ like an import. Import and verify reuse
// engine/model/package (hashing and header checks are file work, not ORT work, so they run in the host
// without touching the GPU).
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImportError, importWanFolder } from '../model/package/import.js';
import { manifestFiles, readManifest } from '../model/package/manifest.js';
import { verifyPackage } from '../model/package/verify.js';
import { BUILT_IN_MODEL_DIR, DEMO_MODEL_NAME } from '../pipeline/demo-model.js';
import type { ModelPackageInfo, VerifyResult } from './contract.js';
import { ServiceError } from './errors.js';

export type ModelProgress = (p: { name: string; action: 'import' | 'verify'; done: number; total: number; file: string }) => void;

async function describe(dir: string, builtIn: boolean): Promise<ModelPackageInfo | null> {
  try {
    const { dir: pkgDir, manifest } = await readManifest(dir);
    const files = manifestFiles(manifest);
    return {
      name: manifest.name,
      path: pkgDir,
      architecture: typeof manifest.architecture === 'string' ? manifest.architecture : manifest.architecture.name,
      builtIn,
      files: files.length,
      bytes: files.reduce((s, f) => s + f.file.bytes, 0),
    };
  } catch {
    return null;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

export class ModelStore {
  constructor(
    private readonly modelsDir: string,
    private readonly builtInDir: string | null,
  ) {}

  async list(): Promise<ModelPackageInfo[]> {
    const out: ModelPackageInfo[] = [];
    // The built-in model refree-mini first: the host's copy in its assets folder, else the pipeline's
    // own (a host without one). Each name is listed once, so the assets folder that holds refree-mini
    // does not list it a second time; a missing or broken package is simply not listed.
    const builtIns = [...(this.builtInDir ? [path.join(this.builtInDir, DEMO_MODEL_NAME)] : []), BUILT_IN_MODEL_DIR, ...(this.builtInDir ? await subdirs(this.builtInDir) : [])];
    for (const d of builtIns) {
      const info = await describe(d, true);
      if (info && !out.some((m) => m.name === info.name)) out.push(info);
    }
    for (const d of await subdirs(this.modelsDir)) {
      const info = await describe(d, false);
      if (info && !out.some((m) => m.name === info.name)) out.push(info);
    }
    return out;
  }

  async find(name: string): Promise<ModelPackageInfo> {
    const p = (await this.list()).find((m) => m.name === name);
    if (!p) throw new ServiceError('not-found', `There is no model package named "${name}"; import it in Settings → Models first.`);
    return p;
  }

  async import(folder: string, name: string | undefined, onProgress: ModelProgress): Promise<ModelPackageInfo> {
    const st = await stat(folder).catch(() => null);
    if (!st?.isDirectory()) throw new ServiceError('not-found', `${folder} is not a folder; choose the folder you downloaded the model into.`);
    const pkgName = name ?? path.basename(folder);
    const out = path.join(this.modelsDir, pkgName);
    if (await stat(out).then(() => true, () => false)) throw new ServiceError('conflict', `A model package named "${pkgName}" already exists; remove it first or choose another name.`);
    if ((await this.list()).some((m) => m.builtIn && m.name === pkgName)) throw new ServiceError('conflict', `"${pkgName}" is the name of a built-in model; choose another name for this package.`);
    try {
      await importWanFolder(folder, { out, name: pkgName, onProgress: (p) => onProgress({ name: pkgName, action: 'import', done: p.done, total: p.total, file: p.file }) });
    } catch (e) {
      await rm(out, { recursive: true, force: true });
      if (e instanceof ImportError) throw new ServiceError('bad-input', `The folder could not be imported: ${e.problems.join('; ')}`);
      throw new ServiceError('bad-input', `The folder could not be imported: ${(e as Error).message}`);
    }
    const info = await describe(out, false);
    if (!info) throw new ServiceError('internal', `The import wrote ${out} but its manifest cannot be read back.`);
    return info;
  }

  async verify(name: string, onProgress: ModelProgress): Promise<VerifyResult> {
    const p = await this.find(name);
    const r = await verifyPackage(p.path, { onProgress: (x) => onProgress({ name, action: 'verify', done: x.done, total: x.total, file: x.file }) });
    return { ok: r.ok, name, problems: r.problems, checkedBytes: r.checkedBytes, seconds: r.seconds };
  }

  async remove(name: string): Promise<{ removed: string }> {
    const p = await this.find(name);
    if (p.builtIn) throw new ServiceError('conflict', `"${name}" is a built-in model and cannot be removed.`);
    if (path.dirname(p.path) !== path.resolve(this.modelsDir)) throw new ServiceError('conflict', `"${name}" lives outside the studio's models folder (${p.path}); delete it there.`);
    await rm(p.path, { recursive: true, force: true });
    return { removed: name };
  }
}
