// Recognises a Wan2.2-TI2V-5B download folder and lists its files per component.
//
// Original layout (Wan-AI/Wan2.2-TI2V-5B):
//   diffusion_pytorch_model-0000N-of-0000M.safetensors + diffusion_pytorch_model.safetensors.index.json
//   (or one diffusion_pytorch_model.safetensors), config.json, Wan2.2_VAE.pth,
//   models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/{tokenizer.json, ...}. The VAE and umT5 may also be
//   safetensors, under any name: the other weights files beside the shards are told apart by their
//   tensor names (classify.ts).
// Diffusers layout (Wan-AI/Wan2.2-TI2V-5B-Diffusers):
//   transformer/diffusion_pytorch_model-*.safetensors (+ index, config.json), vae/diffusion_pytorch_model.safetensors,
//   text_encoder/model-*.safetensors (+ index), tokenizer/{tokenizer.json, ...}, model_index.json
// ComfyUI layout (a ComfyUI `models/` folder, or a folder of its single files):
//   diffusion_models/ (or unet/) wan2.2_ti2v_5B_fp16.safetensors, vae/wan2.2_vae.safetensors,
//   text_encoders/ (or clip/) umt5_xxl_fp16.safetensors; files told apart by their tensor names.
// Files are followed through symlinks (a Hugging Face cache snapshot is a folder of links into blobs/).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { WeightsKind } from './classify.js';
import { classifyFile, weightsFormat } from './classify.js';
import type { FileFormat } from './manifest.js';

export type WanLayout = 'original' | 'diffusers' | 'comfyui' | 'files';

export interface DetectedFile {
  path: string;
  format: FileFormat;
  role?: 'index' | 'config';
  /** Tensor count and dtype when known from elsewhere than a component's weight index. */
  tensors?: number;
  dtype?: string | null;
}

export interface DetectedFolder {
  dir: string;
  layout: WanLayout;
  dit: DetectedFile[];
  vae: DetectedFile[];
  t5: DetectedFile[];
  tokenizer: DetectedFile[];
  /** A wav2vec2 speech front-end (Hugging Face checkpoint + config.json), when one was given. */
  speechFrontEnd?: DetectedFile[];
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
export async function shards(dir: string, indexName: string, pattern: RegExp, problems: string[]): Promise<DetectedFile[]> {
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

export async function jsonFiles(dir: string, names: readonly string[]): Promise<DetectedFile[]> {
  const out: DetectedFile[] = [];
  for (const n of names) if (await isFile(path.join(dir, n))) out.push({ path: path.join(dir, n), format: 'json' });
  return out;
}

export const TOKENIZER_JSON = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

const DIT_SHARD = /^diffusion_pytorch_model.*\.safetensors$/;

/** Official file names, preferred when several files hold the same component. */
const OFFICIAL_NAME: Readonly<Record<WeightsKind, RegExp>> = {
  dit: DIT_SHARD,
  vae: /^wan2\.2_vae\.(pth|safetensors)$/i,
  t5: /^models_t5_umt5-xxl-enc-.*\.(pth|safetensors)$/i,
};

/** Weights files (by extension) directly in `dir`, each with the component its tensor names say. */
async function classifyFolder(dir: string, skip: (name: string) => boolean, notes: string[]): Promise<Map<WeightsKind, DetectedFile[]>> {
  const out = new Map<WeightsKind, DetectedFile[]>([['dit', []], ['vae', []], ['t5', []]]);
  for (const n of await list(dir)) {
    const p = path.join(dir, n);
    const format = weightsFormat(n);
    if (!format || skip(n) || !(await isFile(p))) continue;
    const kind = await classifyFile(p, format).catch((e: Error) => {
      notes.push(`${p} is not readable as ${format} (${e.message}); left out`);
      return null;
    });
    if (kind) out.get(kind)!.push({ path: p, format });
    else notes.push(`${p} holds none of the DiT, VAE or umT5 tensors; left out`);
  }
  return out;
}

/**
 * One file for a single-file component: the official name first, then safetensors (read in place),
 * then by name. The others are named in a note so nothing is dropped silently.
 */
function pickOne(kind: WeightsKind, files: readonly DetectedFile[], notes: string[]): DetectedFile[] {
  if (files.length <= 1) return [...files];
  const rank = (f: DetectedFile) => (OFFICIAL_NAME[kind].test(path.basename(f.path)) ? 0 : 2) + (f.format === 'safetensors' ? 0 : 1);
  const sorted = [...files].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  notes.push(`several ${kind.toUpperCase()} files: using ${path.basename(sorted[0]!.path)}, not ${sorted.slice(1).map((f) => path.basename(f.path)).join(', ')} (choose with \`refree models create --${kind} <file>\`)`);
  return [sorted[0]!];
}

const NO_VAE = 'no VAE weights found: the package has no VAE (vae-encode / vae-decode will not run)';
const NO_T5 = 'no umT5 text encoder weights found: the package has no text encoder (use cached text contexts)';

async function detectComfy(dir: string, problems: string[], notes: string[]): Promise<DetectedFolder | null> {
  const sub = async (...names: string[]) => {
    for (const n of names) if (await isDir(path.join(dir, n))) return path.join(dir, n);
    return null;
  };
  const ditDir = await sub('diffusion_models', 'unet');
  const found = new Map<WeightsKind, DetectedFile[]>([['dit', []], ['vae', []], ['t5', []]]);
  const folders = ditDir ? [ditDir, await sub('vae'), await sub('text_encoders', 'clip')] : [dir];
  for (const d of folders) {
    if (!d) continue;
    for (const [k, files] of await classifyFolder(d, () => false, notes)) found.get(k)!.push(...files);
  }
  const dits = found.get('dit')!;
  if (!dits.length) return null;
  if (dits.length > 1) {
    problems.push(
      `several DiT files: ${dits.map((f) => f.path).join(', ')}; make a package from the one you want with ` +
        '`refree models create --arch <name|config.json> --dit <file> --vae <file> --t5 <file> --out <pkg>`',
    );
  }
  const vae = pickOne('vae', found.get('vae')!, notes);
  const t5 = pickOne('t5', found.get('t5')!, notes);
  if (!vae.length) notes.push(NO_VAE);
  if (!t5.length) notes.push(NO_T5);
  else notes.push('ComfyUI folders have no tokenizer.json: `refree run t5` needs one (add it with `refree models create ... --tokenizer <dir>`)');
  return { dir, layout: 'comfyui', dit: dits.slice(0, 1), vae, t5, tokenizer: [], notes, problems };
}

export async function detectWanFolder(dirIn: string): Promise<DetectedFolder> {
  const dir = path.resolve(dirIn);
  if (!(await isDir(dir))) throw new DetectError(`${dir} is not a folder (give the Wan2.2-TI2V-5B download folder)`);
  const problems: string[] = [];
  const notes: string[] = [];
  const entries = await list(dir);

  if ((await isDir(path.join(dir, 'transformer'))) || entries.includes('model_index.json')) {
    const f: DetectedFolder = { dir, layout: 'diffusers', dit: [], vae: [], t5: [], tokenizer: [], notes, problems };
    const tdir = path.join(dir, 'transformer');
    f.dit = [...(await shards(tdir, 'diffusion_pytorch_model.safetensors.index.json', DIT_SHARD, problems)), ...(await jsonFiles(tdir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    const vdir = path.join(dir, 'vae');
    f.vae = [...(await shards(vdir, 'diffusion_pytorch_model.safetensors.index.json', DIT_SHARD, problems)), ...(await jsonFiles(vdir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    const edir = path.join(dir, 'text_encoder');
    f.t5 = [...(await shards(edir, 'model.safetensors.index.json', /^model.*\.safetensors$/, problems)), ...(await jsonFiles(edir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    f.tokenizer = await jsonFiles(path.join(dir, 'tokenizer'), TOKENIZER_JSON);
    if (!f.dit.some((x) => x.format === 'safetensors')) problems.push(`no DiT weights: ${tdir} has no diffusion_pytorch_model*.safetensors`);
    if (!f.vae.some((x) => x.format === 'safetensors')) notes.push(NO_VAE);
    if (!f.t5.some((x) => x.format === 'safetensors')) notes.push(NO_T5);
    return f;
  }

  if (entries.some((n) => DIT_SHARD.test(n))) {
    const f: DetectedFolder = { dir, layout: 'original', dit: [], vae: [], t5: [], tokenizer: [], notes, problems };
    f.dit = [...(await shards(dir, 'diffusion_pytorch_model.safetensors.index.json', DIT_SHARD, problems)), ...(await jsonFiles(dir, ['config.json'])).map((x) => ({ ...x, role: 'config' as const }))];
    // The VAE and umT5: Wan2.2_VAE.pth and models_t5_umt5-xxl-enc-bf16.pth as shipped, or the same
    // tensors saved as safetensors (any name); told apart by their tensor names.
    const other = await classifyFolder(dir, (n) => DIT_SHARD.test(n), notes);
    if (other.get('dit')!.length) notes.push(`${other.get('dit')!.map((x) => path.basename(x.path)).join(', ')} also hold DiT tensors; only the diffusion_pytorch_model shards are used`);
    f.vae = pickOne('vae', other.get('vae')!, notes);
    f.t5 = pickOne('t5', other.get('t5')!, notes);
    if (!f.vae.length) notes.push(NO_VAE);
    if (!f.t5.length) notes.push(NO_T5);
    f.tokenizer = await jsonFiles(path.join(dir, 'google', 'umt5-xxl'), TOKENIZER_JSON);
    return f;
  }

  const comfy = await detectComfy(dir, problems, notes);
  if (comfy) return comfy;

  const shown = entries.slice(0, 12).join(', ') + (entries.length > 12 ? `, ... (${entries.length} entries)` : '');
  throw new DetectError(
    `${dir} is not a Wan2.2-TI2V-5B download: expected the original layout (diffusion_pytorch_model*.safetensors, Wan2.2_VAE.pth, ` +
      `models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/), the Diffusers layout (transformer/, vae/, text_encoder/, tokenizer/) ` +
      `or ComfyUI files (diffusion_models/, vae/, text_encoders/); found: ${shown || 'an empty folder'}. ` +
      'For loose files, use `refree models create --dit <file> --vae <file> --out <pkg>`',
  );
}
