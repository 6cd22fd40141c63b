// Recognises a Wan2.2-TI2V-5B download folder and lists its files per component.
//
// Original layout (Wan-AI/Wan2.2-TI2V-5B):
//   diffusion_pytorch_model-0000N-of-0000M.safetensors + diffusion_pytorch_model.safetensors.index.json
//   (or one diffusion_pytorch_model.safetensors), config.json, Wan2.2_VAE.pth,
//   models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/{tokenizer.json, ...}
// Diffusers layout (Wan-AI/Wan2.2-TI2V-5B-Diffusers):
//   transformer/diffusion_pytorch_model-*.safetensors (+ index, config.json), vae/diffusion_pytorch_model.safetensors,
//   text_encoder/model-*.safetensors (+ index), tokenizer/{tokenizer.json, ...}, model_index.json
// Files are followed through symlinks (a Hugging Face cache snapshot is a folder of links into blobs/).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileFormat } from './manifest.js';

export type WanLayout = 'original' | 'diffusers';

export interface DetectedFile {
  path: string;
  format: FileFormat;
  role?: 'index' | 'config';
}

export interface DetectedFolder {
  dir: string;
  layout: WanLayout;
  dit: DetectedFile[];
  vae: DetectedFile[];
  t5: DetectedFile[];
  tokenizer: DetectedFile[];
  /** Things the import should tell the user (missing optional parts, ...). */
  notes: string[];
  /** Hard problems (a shard the index names is absent, ...). */
  problems: string[];
}

export class DetectError extends Error {
  override name = 'DetectError';
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}
async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
async function list(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/**
 * The shards of a sharded checkpoint: from its index json when present (every shard the index names
 * must exist), else every file matching `pattern`.
 */
async function shards(dir: string, indexName: string, pattern: RegExp, problems: string[]): Promise<DetectedFile[]> {
  const out: DetectedFile[] = [];
  const indexPath = path.join(dir, indexName);
  if (await isFile(indexPath)) {
    let names: string[] = [];
    try {
      const idx = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: Record<string, string> };
      if (!idx.weight_map || typeof idx.weight_map !== 'object') throw new Error('it has no "weight_map" object');
      names = [...new Set(Object.values(idx.weight_map))].sort();
    } catch (e) {
      problems.push(`${indexPath}: not a valid shard index (${(e as Error).message})`);
    }
    out.push({ path: indexPath, format: 'json', role: 'index' });
    for (const n of names) {
      // A shard is a file beside its index: a name with a folder in it ("../../etc/passwd", "/abs") would
      // make the import open, and record, a file outside the download. Refused before anything opens it.
      if (typeof n !== 'string' || n === '' || n === '.' || n === '..' || /[\\/\0]/.test(n) || path.isAbsolute(n)) {
        problems.push(`${indexPath} names the shard "${String(n)}", which is not a file beside the index; a shard index may only name files in its own folder (the download may be damaged or tampered with)`);
        continue;
      }
      const p = path.join(dir, n);
      if (await isFile(p)) out.push({ path: p, format: 'safetensors' });
      else problems.push(`shard ${p} is named in ${indexName} but missing (an incomplete download?)`);
    }
    return out;
  }
  for (const n of await list(dir)) if (pattern.test(n) && (await isFile(path.join(dir, n)))) out.push({ path: path.join(dir, n), format: 'safetensors' });
  return out;
}

async function jsonFiles(dir: string, names: readonly string[]): Promise<DetectedFile[]> {
  const out: DetectedFile[] = [];
  for (const n of names) if (await isFile(path.join(dir, n))) out.push({ path: path.join(dir, n), format: 'json' });
  return out;
}

const TOKENIZER_JSON = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

export async function detectWanFolder(dirIn: string): Promise<DetectedFolder> {
  const dir = path.resolve(dirIn);
  if (!(await isDir(dir))) throw new DetectError(`${dir} is not a folder (give the Wan2.2-TI2V-5B download folder)`);
  const problems: string[] = [];
  const notes: string[] = [];
  const entries = await list(dir);

  if ((await isDir(path.join(dir, 'transformer'))) || entries.includes('model_index.json')) {
    const f: DetectedFolder = { dir, layout: 'diffusers', dit: [], vae: [], t5: [], tokenizer: [], notes, problems };
    const tdir = path.join(dir, 'transformer');
    f.dit = [...(await shards(tdir, 'diffusion_pytorch_model.safetensors.index.json', /^diffusion_pytorch_model.*\.safetensors$/, problems)), ...(await jsonFiles(tdir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    const vdir = path.join(dir, 'vae');
    f.vae = [...(await shards(vdir, 'diffusion_pytorch_model.safetensors.index.json', /^diffusion_pytorch_model.*\.safetensors$/, problems)), ...(await jsonFiles(vdir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    const edir = path.join(dir, 'text_encoder');
    f.t5 = [...(await shards(edir, 'model.safetensors.index.json', /^model.*\.safetensors$/, problems)), ...(await jsonFiles(edir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    f.tokenizer = await jsonFiles(path.join(dir, 'tokenizer'), TOKENIZER_JSON);
    if (!f.dit.some((x) => x.format === 'safetensors')) problems.push(`no DiT weights: ${tdir} has no diffusion_pytorch_model*.safetensors`);
    return f;
  }

  if (entries.some((n) => /^diffusion_pytorch_model.*\.safetensors$/.test(n))) {
    const f: DetectedFolder = { dir, layout: 'original', dit: [], vae: [], t5: [], tokenizer: [], notes, problems };
    f.dit = [...(await shards(dir, 'diffusion_pytorch_model.safetensors.index.json', /^diffusion_pytorch_model.*\.safetensors$/, problems)), ...(await jsonFiles(dir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    if (await isFile(path.join(dir, 'Wan2.2_VAE.pth'))) f.vae = [{ path: path.join(dir, 'Wan2.2_VAE.pth'), format: 'pth' }];
    else notes.push('no Wan2.2_VAE.pth: the package has no VAE (vae-encode / vae-decode will not run)');
    const t5 = entries.find((n) => /^models_t5_umt5-xxl-enc-.*\.pth$/.test(n));
    if (t5) f.t5 = [{ path: path.join(dir, t5), format: 'pth' }];
    else notes.push('no models_t5_umt5-xxl-enc-bf16.pth: the package has no text encoder (use cached text contexts)');
    f.tokenizer = await jsonFiles(path.join(dir, 'google', 'umt5-xxl'), TOKENIZER_JSON);
    return f;
  }

  const shown = entries.slice(0, 12).join(', ') + (entries.length > 12 ? `, ... (${entries.length} entries)` : '');
  throw new DetectError(
    `${dir} is not a Wan2.2-TI2V-5B download: expected the original layout (diffusion_pytorch_model*.safetensors, Wan2.2_VAE.pth, ` +
      `models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/) or the Diffusers layout (transformer/, vae/, text_encoder/, tokenizer/); ` +
      `found: ${shown || 'an empty folder'}`,
  );
}
