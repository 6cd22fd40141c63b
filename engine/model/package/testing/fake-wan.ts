// Test fixtures: a fake Wan2.2-TI2V-5B download with TINY-config random weights, in the original
// layout (two DiT safetensors shards + index, one F32 and one BF16; config.json as Wan ships it;
// Wan2.2_VAE.pth and the umT5 .pth written with the torch.save fixture writer, or the same tensors as
// safetensors; google/umt5-xxl tokenizer), the Diffusers layout (transformer/, vae/, text_encoder/,
// tokenizer/ with Diffusers / HF transformers names) or a ComfyUI models folder. The same seeds give
// the same values in every layout, so every route must compute the same outputs.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelArchitecture } from '../../config.js';
import { TINY } from '../../config.js';
import { ditParams } from '../../inventory/dit.js';
import { t5Params } from '../../inventory/t5.js';
import type { ParamSpec } from '../../inventory/types.js';
import { vaeParams } from '../../inventory/vae.js';
import { randomWeights } from '../../random-weights.js';
import { bytesOf } from '../../weights/dtypes.js';
import type { WeightDtype } from '../../weights/dtypes.js';
import { f32ToBf16 } from '../../../graph/half.js';
import { diffusersToOriginal } from '../../weights/keymap.js';
import { wanT5HfNames, wanVaeDiffusersName } from '../../weights/keymap-components.js';
import { writeSafetensors } from '../../weights/safetensors.js';
import { writeTorchCheckpoint } from '../../weights/testing/torch-fixture.js';

export const TOKENIZER_FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 't5', 'testing', 'wan2.2-tiny', 'google', 'umt5-xxl');

/** Random float32 values per parameter (seeded, deterministic). */
export function fakeWeights(specs: readonly ParamSpec[], seed: number): Map<string, Float32Array> {
  return new Map([...randomWeights(specs, seed)].map(([k, e]) => [k, (e.data as { kind: 'inline'; data: Float32Array }).data]));
}

function encode(values: Float32Array, dtype: WeightDtype): Uint8Array {
  return dtype === 'BF16' ? bytesOf(f32ToBf16(values)) : new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

async function writeShard(file: string, specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>, dtype: WeightDtype, rename: (n: string) => string = (n) => n): Promise<void> {
  await writeSafetensors(
    file,
    specs.map((p) => ({ name: rename(p.name), dtype, shape: p.shape, data: encode(values.get(p.name)!, dtype) })),
  );
}

function writePth(file: string, specs: readonly ParamSpec[], values: ReadonlyMap<string, Float32Array>, dtype: WeightDtype, folder: string): void {
  writeTorchCheckpoint(
    file,
    specs.map((p, i) => ({ key: String(i), dtype, data: encode(values.get(p.name)!, dtype) })),
    specs.map((p, i) => ({ name: p.name, storage: String(i), shape: p.shape })),
    { folder },
  );
}

export interface FakeWan {
  dir: string;
  arch: ModelArchitecture;
  dit: Map<string, Float32Array>;
  vae: Map<string, Float32Array>;
  t5: Map<string, Float32Array>;
  /** DiT shard files (original layout). */
  shards: string[];
}

export interface FakeOriginalOptions {
  /** Drop this DiT parameter from the shards (and the index). */
  dropKey?: string;
  /** Add an extra tensor with this name to shard 1. */
  extraKey?: string;
  /** The VAE as Wan2.2_VAE.pth (default) or Wan2.2_VAE.safetensors (same names and values), or none. */
  vae?: 'pth' | 'safetensors' | 'none';
  /** The umT5 as the official .pth (default), the same as safetensors, or HF UMT5EncoderModel names. */
  t5?: 'pth' | 'safetensors' | 'hf' | 'none';
  /** config.json: as Wan ships it (default), absent, or this object. */
  config?: 'official' | 'none' | Record<string, unknown>;
  /** The DiT's architecture (default TINY; the VAE and umT5 are always TINY's). */
  arch?: ModelArchitecture;
}

/** The DiT config.json as Wan writes it (WanModel's ConfigMixin; text_dim only when it is not 4096). */
export function officialConfigJson(arch: ModelArchitecture): Record<string, unknown> {
  const d = arch.dit;
  return {
    __name__: 'Config',
    _class_name: 'WanModel',
    _diffusers_version: '0.33.0',
    dim: d.dim,
    eps: d.eps,
    ffn_dim: d.ffnDim,
    freq_dim: d.freqDim,
    in_dim: d.inDim,
    model_type: 'ti2v',
    num_heads: d.heads,
    num_layers: d.layers,
    out_dim: d.outDim,
    text_len: d.textLen,
    ...(d.textDim !== 4096 ? { text_dim: d.textDim } : {}),
  };
}

/** The transformer/config.json of a -Diffusers repo (WanTransformer3DModel). */
export function diffusersConfigJson(arch: ModelArchitecture): Record<string, unknown> {
  const d = arch.dit;
  return {
    _class_name: 'WanTransformer3DModel',
    _diffusers_version: '0.35.0.dev0',
    added_kv_proj_dim: null,
    attention_head_dim: d.dim / d.heads,
    cross_attn_norm: true,
    eps: d.eps,
    ffn_dim: d.ffnDim,
    freq_dim: d.freqDim,
    image_dim: null,
    in_channels: d.inDim,
    num_attention_heads: d.heads,
    num_layers: d.layers,
    out_channels: d.outDim,
    patch_size: [...d.patch],
    pos_embed_seq_len: null,
    qk_norm: 'rms_norm_across_heads',
    rope_max_seq_len: 1024,
    text_dim: d.textDim,
  };
}

const vaeDiffusers = (n: string): string => {
  const d = wanVaeDiffusersName(n);
  if (!d) throw new Error(`fixture: no Diffusers VAE name for ${n}`);
  return d;
};
const t5Hf = (n: string): string => wanT5HfNames(n)[0] ?? n;

/** The tiny VAE and umT5 weights (seeds 8 and 9, as in every layout). */
export function fakeVaeT5(arch: ModelArchitecture = TINY): { vae: Map<string, Float32Array>; t5: Map<string, Float32Array> } {
  return { vae: fakeWeights(vaeParams(arch.vae), 8), t5: fakeWeights(t5Params(arch.t5!), 9) };
}

/** The original Wan-AI/Wan2.2-TI2V-5B layout with TINY weights. */
export async function writeFakeOriginal(dir: string, opts: FakeOriginalOptions = {}): Promise<FakeWan> {
  const arch = opts.arch ?? TINY;
  mkdirSync(dir, { recursive: true });
  const ditSpecs = ditParams(arch.dit).filter((p) => p.name !== opts.dropKey);
  const dit = fakeWeights(ditParams(arch.dit), 7);
  // Shard 1: embeddings + block 0 in F32 (referenced in place); shard 2: the rest in BF16 (converted).
  const first = ditSpecs.filter((p) => !p.name.startsWith('blocks.') || p.name.startsWith('blocks.0.'));
  const second = ditSpecs.filter((p) => !first.includes(p));
  const shards = ['diffusion_pytorch_model-00001-of-00002.safetensors', 'diffusion_pytorch_model-00002-of-00002.safetensors'].map((n) => path.join(dir, n));
  const extra = opts.extraKey ? [{ name: opts.extraKey, shape: [2] }] : [];
  if (opts.extraKey) dit.set(opts.extraKey, Float32Array.of(1, 2));
  await writeShard(shards[0]!, [...first, ...extra], dit, 'F32');
  await writeShard(shards[1]!, second, dit, 'BF16');
  const weightMap: Record<string, string> = {};
  for (const p of first) weightMap[p.name] = path.basename(shards[0]!);
  for (const p of second) weightMap[p.name] = path.basename(shards[1]!);
  for (const p of extra) weightMap[p.name] = path.basename(shards[0]!);
  writeFileSync(path.join(dir, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  const config = opts.config ?? 'official';
  if (config !== 'none') writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config === 'official' ? officialConfigJson(arch) : config));

  const { vae, t5 } = fakeVaeT5(TINY);
  const vaeFormat = opts.vae ?? 'pth';
  const [vaeSpecs, t5Specs] = [vaeParams(TINY.vae), t5Params(TINY.t5!)];
  if (vaeFormat === 'pth') writePth(path.join(dir, 'Wan2.2_VAE.pth'), vaeSpecs, vae, 'F32', 'Wan2.2_VAE');
  else if (vaeFormat === 'safetensors') await writeShard(path.join(dir, 'Wan2.2_VAE.safetensors'), vaeSpecs, vae, 'F32');
  const t5Format = opts.t5 ?? 'pth';
  if (t5Format === 'pth') writePth(path.join(dir, 'models_t5_umt5-xxl-enc-bf16.pth'), t5Specs, t5, 'BF16', 'models_t5_umt5-xxl-enc-bf16');
  else if (t5Format === 'safetensors') await writeShard(path.join(dir, 'models_t5_umt5-xxl-enc-bf16.safetensors'), t5Specs, t5, 'BF16');
  else if (t5Format === 'hf') await writeShard(path.join(dir, 'umt5-xxl-encoder.safetensors'), t5Specs, t5, 'BF16', t5Hf);
  const tok = path.join(dir, 'google', 'umt5-xxl');
  mkdirSync(tok, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(TOKENIZER_FIXTURE, f), path.join(tok, f));
  return { dir, arch, dit, vae, t5, shards };
}

/** Inverse of the Diffusers -> original DiT rename (checked against diffusersToOriginal). */
export function toDiffusersName(name: string): string {
  const rules: [RegExp, string][] = [
    [/^time_embedding\.0\./, 'condition_embedder.time_embedder.linear_1.'],
    [/^time_embedding\.2\./, 'condition_embedder.time_embedder.linear_2.'],
    [/^text_embedding\.0\./, 'condition_embedder.text_embedder.linear_1.'],
    [/^text_embedding\.2\./, 'condition_embedder.text_embedder.linear_2.'],
    [/^time_projection\.1\./, 'condition_embedder.time_proj.'],
    [/^head\.modulation$/, 'scale_shift_table'],
    [/^head\.head\./, 'proj_out.'],
    [/^(blocks\.\d+)\.self_attn\.([qkv])\./, '$1.attn1.to_$2.'],
    [/^(blocks\.\d+)\.self_attn\.o\./, '$1.attn1.to_out.0.'],
    [/^(blocks\.\d+)\.self_attn\.norm_([qk])\./, '$1.attn1.norm_$2.'],
    [/^(blocks\.\d+)\.cross_attn\.([qkv])\./, '$1.attn2.to_$2.'],
    [/^(blocks\.\d+)\.cross_attn\.o\./, '$1.attn2.to_out.0.'],
    [/^(blocks\.\d+)\.cross_attn\.norm_([qk])\./, '$1.attn2.norm_$2.'],
    [/^(blocks\.\d+)\.norm3\./, '$1.norm2.'],
    [/^(blocks\.\d+)\.ffn\.0\./, '$1.ffn.net.0.proj.'],
    [/^(blocks\.\d+)\.ffn\.2\./, '$1.ffn.net.2.'],
    [/^(blocks\.\d+)\.modulation$/, '$1.scale_shift_table'],
  ];
  for (const [re, to] of rules) {
    if (re.test(name)) {
      const d = name.replace(re, to);
      if (diffusersToOriginal(d) !== name) throw new Error(`fixture: ${d} does not map back to ${name}`);
      return d;
    }
  }
  if (name.startsWith('patch_embedding.')) return name;
  throw new Error(`fixture: no Diffusers name for ${name}`);
}

/** The Wan-AI/Wan2.2-TI2V-5B-Diffusers layout with TINY weights (Diffusers VAE and HF umT5 names). */
export async function writeFakeDiffusers(dir: string): Promise<FakeWan> {
  const arch = TINY;
  const specs = ditParams(arch.dit);
  const dit = fakeWeights(specs, 7);
  const tdir = path.join(dir, 'transformer');
  mkdirSync(tdir, { recursive: true });
  const shard = path.join(tdir, 'diffusion_pytorch_model.safetensors');
  await writeShard(shard, specs, dit, 'F32', toDiffusersName);
  writeFileSync(path.join(tdir, 'config.json'), JSON.stringify(diffusersConfigJson(arch)));
  const { vae, t5 } = fakeVaeT5(arch);
  const vdir = path.join(dir, 'vae');
  mkdirSync(vdir, { recursive: true });
  await writeShard(path.join(vdir, 'diffusion_pytorch_model.safetensors'), vaeParams(arch.vae), vae, 'F32', vaeDiffusers);
  writeFileSync(path.join(vdir, 'config.json'), JSON.stringify({ _class_name: 'AutoencoderKLWan', base_dim: arch.vae.encDim, z_dim: arch.vae.zDim, is_residual: true }));
  const edir = path.join(dir, 'text_encoder');
  mkdirSync(edir, { recursive: true });
  // transformers writes tied weights once, but older exports carry both spellings of the embedding.
  const t5Specs = t5Params(arch.t5!);
  const emb = t5Specs.find((p) => p.name === 'token_embedding.weight')!;
  await writeSafetensors(path.join(edir, 'model.safetensors'), [
    ...t5Specs.map((p) => ({ name: t5Hf(p.name), dtype: 'BF16' as const, shape: p.shape, data: encode(t5.get(p.name)!, 'BF16') })),
    { name: 'encoder.embed_tokens.weight', dtype: 'BF16', shape: emb.shape, data: encode(t5.get(emb.name)!, 'BF16') },
  ]);
  writeFileSync(path.join(edir, 'config.json'), JSON.stringify({ architectures: ['UMT5EncoderModel'] }));
  const kdir = path.join(dir, 'tokenizer');
  mkdirSync(kdir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(TOKENIZER_FIXTURE, f), path.join(kdir, f));
  writeFileSync(path.join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'WanPipeline' }));
  return { dir, arch, dit, vae, t5, shards: [shard] };
}

/**
 * A ComfyUI models folder: diffusion_models/ (the DiT in one F32 file behind ComfyUI's
 * `model.diffusion_model.` prefix), vae/ (official names), text_encoders/ (HF names).
 */
export async function writeFakeComfy(dir: string): Promise<FakeWan> {
  const arch = TINY;
  const specs = ditParams(arch.dit);
  const dit = fakeWeights(specs, 7);
  const { vae, t5 } = fakeVaeT5(arch);
  for (const d of ['diffusion_models', 'vae', 'text_encoders']) mkdirSync(path.join(dir, d), { recursive: true });
  const shard = path.join(dir, 'diffusion_models', 'wan2.2_ti2v_tiny_fp32.safetensors');
  await writeShard(shard, specs, dit, 'F32', (n) => `model.diffusion_model.${n}`);
  await writeShard(path.join(dir, 'vae', 'wan2.2_vae.safetensors'), vaeParams(arch.vae), vae, 'F32');
  await writeShard(path.join(dir, 'text_encoders', 'umt5_xxl_tiny.safetensors'), t5Params(arch.t5!), t5, 'BF16', t5Hf);
  return { dir, arch, dit, vae, t5, shards: [shard] };
}
