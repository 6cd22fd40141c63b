// `refree models create --arch … --dit … [--vae …] [--t5 …] [--tokenizer …] [--wav2vec2 …] --out P`: a package around
// loose weight files (a DiT saved on its own, a VAE from another download, ComfyUI single files). The
// files are referenced, not copied; each is checked to hold the component its option names, every key
// is checked against the architecture, and sizes and SHA-256s are computed, as `models import` does.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { WeightsKind } from './classify.js';
import { classifyFile, weightKeys, weightsFormat } from './classify.js';
import type { DetectedFile, DetectedFolder } from './detect.js';
import { TOKENIZER_JSON, jsonFiles, shards } from './detect.js';
import type { ImportOptions, ImportReport } from './import.js';
import { ImportError, buildPackage } from './import.js';

export interface CreateOptions extends ImportOptions {
  /** DiT weights: safetensors / .pth files, or a shard index json (its shards are used). */
  dit: readonly string[];
  vae?: readonly string[];
  t5?: readonly string[];
  /** A folder with tokenizer.json (and its side files), or tokenizer.json itself. */
  tokenizer?: string;
  /** A wav2vec2 checkpoint in the Hugging Face layout (model.safetensors / pytorch_model.bin; config.json beside it). */
  wav2vec2?: string;
  /** The --arch file when it was a shipped DiT config.json: recorded with the DiT (role "config"). */
  archFile?: string | null;
  /** The package folder to write. */
  out: string;
}

const WHAT: Readonly<Record<WeightsKind, string>> = { dit: 'DiT', vae: 'VAE', t5: 'umT5 text encoder' };

async function weightsFiles(kind: WeightsKind, given: readonly string[], problems: string[]): Promise<DetectedFile[]> {
  const out: DetectedFile[] = [];
  for (const g of given) {
    const abs = path.resolve(g);
    const st = await stat(abs).catch(() => null);
    if (!st?.isFile()) {
      problems.push(`--${kind} ${abs} does not exist (or is not a file)`);
      continue;
    }
    if (abs.endsWith('.json')) {
      // A shard index: the index and the shards it names, all beside it.
      out.push(...(await shards(path.dirname(abs), path.basename(abs), /^$/, problems)));
      continue;
    }
    const format = weightsFormat(abs);
    if (!format) {
      problems.push(`--${kind} ${abs}: weights must be .safetensors or .pth files (or a shard index .json)`);
      continue;
    }
    // The option must name the component the file holds: a VAE given as --t5 is caught here, by name.
    const holds = await classifyFile(abs, format).catch((e: Error) => {
      problems.push(`--${kind} ${abs}: not readable as ${format} (${e.message})`);
      return undefined;
    });
    if (holds === undefined) continue;
    if (holds !== kind) {
      problems.push(`--${kind} ${abs} holds ${holds ? `${WHAT[holds]} tensors (give it as --${holds})` : 'none of the DiT, VAE or umT5 tensors'}, not the ${WHAT[kind]}`);
      continue;
    }
    out.push({ path: abs, format });
  }
  return out;
}

async function tokenizerFiles(given: string | undefined, problems: string[]): Promise<DetectedFile[]> {
  if (!given) return [];
  const abs = path.resolve(given);
  const st = await stat(abs).catch(() => null);
  const dir = st?.isDirectory() ? abs : st?.isFile() && path.basename(abs) === 'tokenizer.json' ? path.dirname(abs) : null;
  const files = dir ? await jsonFiles(dir, TOKENIZER_JSON) : [];
  if (!files.some((f) => path.basename(f.path) === 'tokenizer.json')) problems.push(`--tokenizer ${abs}: no tokenizer.json there (give the folder that holds the umT5 tokenizer.json)`);
  return files;
}

async function wav2vec2Files(given: string | undefined, problems: string[]): Promise<DetectedFile[] | undefined> {
  if (!given) return undefined;
  const abs = path.resolve(given);
  const format = weightsFormat(abs);
  const st = await stat(abs).catch(() => null);
  if (!st?.isFile() || !format) {
    problems.push(`--wav2vec2 ${abs}: give the Hugging Face checkpoint file (model.safetensors or pytorch_model.bin)`);
    return undefined;
  }
  const keys = await weightKeys(abs, format).catch((e: Error) => {
    problems.push(`--wav2vec2 ${abs}: not readable as ${format} (${e.message})`);
    return null;
  });
  if (!keys) return undefined;
  if (!keys.some((k) => /^(wav2vec2\.)?feature_extractor\.conv_layers\.0\.conv\.weight$/.test(k))) {
    problems.push(`--wav2vec2 ${abs} has no wav2vec2 feature extractor ('feature_extractor.conv_layers.0.conv.weight'); is it a Hugging Face wav2vec2 checkpoint?`);
    return undefined;
  }
  const files: DetectedFile[] = [{ path: abs, format, tensors: keys.length }];
  const cfg = path.join(path.dirname(abs), 'config.json');
  if (await stat(cfg).then((s) => s.isFile(), () => false)) files.push({ path: cfg, format: 'json', role: 'config' });
  return files;
}

export async function createPackage(opts: CreateOptions): Promise<ImportReport> {
  if (!opts.dit.length) throw new ImportError(['a package needs the DiT weights: --dit <file> (repeat for shards, or give the shard index .json)']);
  const problems: string[] = [];
  const notes: string[] = [];
  const dit = await weightsFiles('dit', opts.dit, problems);
  if (opts.archFile) dit.push({ path: opts.archFile, format: 'json', role: 'config' });
  const found: DetectedFolder = {
    dir: path.dirname(path.resolve(opts.dit[0]!)),
    layout: 'files',
    dit,
    vae: await weightsFiles('vae', opts.vae ?? [], problems),
    t5: await weightsFiles('t5', opts.t5 ?? [], problems),
    tokenizer: await tokenizerFiles(opts.tokenizer, problems),
    speechFrontEnd: await wav2vec2Files(opts.wav2vec2, problems),
    notes,
    problems,
  };
  if (!found.vae.length) notes.push('no --vae: the package has no VAE (vae-encode / vae-decode will not run)');
  if (!found.t5.length) notes.push('no --t5: the package has no text encoder (use cached text contexts)');
  return buildPackage(found, { ...opts, name: opts.name ?? path.basename(path.resolve(opts.out)) });
}
