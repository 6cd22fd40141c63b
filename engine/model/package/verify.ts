// `refree models verify <pkg>`: prove every file a package lists is still the one imported. For each
// file: it exists, its size matches, its SHA-256 matches (streamed), and its header parses (safetensors
// header, .pth zip + pickle, JSON, ONNX protobuf) with the tensor count recorded at import. Every
// problem is reported by file; nothing stops at the first one.
import { readFile, stat } from 'node:fs/promises';
import { readModelProto } from '../../runtime/model-file.js';
import { PthFile } from '../weights/pth.js';
import { SafetensorsFile } from '../weights/safetensors.js';
import type { ProgressFn } from './hash.js';
import { hashFile } from './hash.js';
import type { FileEntry } from './manifest.js';
import { manifestFiles, readManifest, resolveFilePath } from './manifest.js';

export interface FileCheck {
  component: string;
  /** As recorded in the manifest. */
  path: string;
  /** Resolved absolute path. */
  file: string;
  format: FileEntry['format'];
  ok: boolean;
  /** Bytes on disk (null when missing). */
  bytes: number | null;
  sha256: string | null;
  problems: string[];
}

export interface VerifyReport {
  ok: boolean;
  package: string;
  name: string;
  files: FileCheck[];
  /** "<file>: <problem>" for every problem. */
  problems: string[];
  checkedBytes: number;
  seconds: number;
}

/** Parses the file's header; returns the tensor count for weight files, null otherwise. Throws with the reason. */
async function parseHeader(file: string, format: FileEntry['format']): Promise<number | null> {
  switch (format) {
    case 'safetensors': {
      const st = await SafetensorsFile.open(file);
      const n = st.names().length;
      await st.close();
      return n;
    }
    case 'pth': {
      const p = await PthFile.open(file);
      const n = p.names().length;
      await p.close();
      return n;
    }
    case 'json':
      JSON.parse(await readFile(file, 'utf8'));
      return null;
    case 'onnx':
      readModelProto(file);
      return null;
  }
}

export async function verifyPackage(dir: string, opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const t0 = performance.now();
  const { dir: pkgDir, manifest } = await readManifest(dir);
  const entries = manifestFiles(manifest);
  const checks: FileCheck[] = [];
  const toHash: { check: FileCheck; entry: FileEntry }[] = [];
  for (const { component, file: entry } of entries) {
    const abs = resolveFilePath(pkgDir, entry);
    const check: FileCheck = { component, path: entry.path, file: abs, format: entry.format, ok: true, bytes: null, sha256: null, problems: [] };
    checks.push(check);
    const st = await stat(abs).catch(() => null);
    if (!st || !st.isFile()) {
      check.problems.push('missing (the file was moved or deleted since import)');
      continue;
    }
    check.bytes = st.size;
    if (st.size !== entry.bytes) {
      check.problems.push(`size differs: recorded ${entry.bytes} bytes, the file has ${st.size} (not hashed)`);
      continue;
    }
    toHash.push({ check, entry });
  }

  const total = toHash.reduce((a, x) => a + x.entry.bytes, 0);
  let done = 0;
  for (const { check, entry } of toHash) {
    opts.onProgress?.({ done, total, file: check.file });
    const h = await hashFile(
      check.file,
      (n) => {
        done += n;
        opts.onProgress?.({ done, total, file: check.file });
      },
      opts.signal,
    );
    check.sha256 = h.sha256;
    if (h.sha256 !== entry.sha256) check.problems.push(`SHA-256 differs: recorded ${entry.sha256}, the file has ${h.sha256} (the file is corrupt or was replaced)`);
    try {
      const n = await parseHeader(check.file, entry.format);
      if (n !== null && entry.tensors !== undefined && n !== entry.tensors) check.problems.push(`header lists ${n} tensors, ${entry.tensors} were recorded at import`);
    } catch (e) {
      check.problems.push(`header does not parse as ${entry.format}: ${(e as Error).message.replace(`${check.file}: `, '')}`);
    }
  }
  for (const c of checks) c.ok = c.problems.length === 0;
  const problems = checks.flatMap((c) => c.problems.map((p) => `${c.file}: ${p}`));
  return { ok: problems.length === 0, package: pkgDir, name: manifest.name, files: checks, problems, checkedBytes: done, seconds: (performance.now() - t0) / 1000 };
}
