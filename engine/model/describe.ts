// Parameter counts per component, computed from the architecture alone (the inventories), for
// `refree models describe`. Bytes are what the weights take at fp16 (GPU) and fp32 (CPU).
//
//   describeArchitecture(WAN22_TI2V_5B) ->
//   { dit: { parameters: 4999787712, tensors: 825, bytes: { fp16, fp32 } },
//     vae: { parameters: 704688668, tensors: 196, bytes, encoder, decoder },
//     t5:  { parameters: 5680910336, ... }, [refree], [lora], total }
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelArchitecture } from './config.js';
import { ARCHITECTURES } from './config.js';
import { ditParams } from './inventory/dit.js';
import { t5Params } from './inventory/t5.js';
import type { ParamSpec } from './inventory/types.js';
import { countParams } from './inventory/types.js';
import { vaeDecoderParams, vaeEncoderParams } from './inventory/vae.js';
import type { LoraConfig } from './lora/config.js';
import { loraParams } from './lora/hook.js';
import type { LoraEntry } from './package/manifest.js';
import { ArchitectureSchema, MANIFEST_FILE, parseManifest, readManifest, resolveArchitecture, resolveFilePath, resolveReFreeConfig } from './package/manifest.js';
import type { ReFreeConfig } from './refree/config.js';
import { refreeParams } from './refree/params.js';
import { SafetensorsFile } from './weights/safetensors.js';

export interface ComponentCount {
  parameters: number;
  tensors: number;
  bytes: { fp16: number; fp32: number };
}

export interface VaeCount extends ComponentCount {
  encoder: number;
  decoder: number;
}

export interface LoraCount extends ComponentCount {
  adapters: { name: string; parameters: number; tensors: number; rank: number | null }[];
}

export interface Description {
  dit: ComponentCount;
  vae: VaeCount;
  t5?: ComponentCount;
  refree?: ComponentCount;
  lora?: LoraCount;
  total: ComponentCount;
}

export interface DescribeExtras {
  refree?: ReFreeConfig | null;
  /** Adapters with their counts (from a LoRA config or a file header). */
  loras?: readonly { name: string; parameters: number; tensors: number; rank: number | null }[];
}

function count(specs: readonly ParamSpec[]): ComponentCount {
  const parameters = countParams(specs);
  return { parameters, tensors: specs.length, bytes: { fp16: parameters * 2, fp32: parameters * 4 } };
}

function sum(parts: readonly ComponentCount[]): ComponentCount {
  const parameters = parts.reduce((a, p) => a + p.parameters, 0);
  return { parameters, tensors: parts.reduce((a, p) => a + p.tensors, 0), bytes: { fp16: parameters * 2, fp32: parameters * 4 } };
}

export function describeArchitecture(arch: ModelArchitecture, extras: DescribeExtras = {}): Description {
  const enc = vaeEncoderParams(arch.vae);
  const dec = vaeDecoderParams(arch.vae);
  const parts: Omit<Description, 'total'> = {
    dit: count(ditParams(arch.dit)),
    vae: { ...count([...enc, ...dec]), encoder: countParams(enc), decoder: countParams(dec) },
  };
  if (arch.t5) parts.t5 = count(t5Params(arch.t5));
  if (extras.refree) parts.refree = count(refreeParams(extras.refree));
  if (extras.loras?.length) {
    const parameters = extras.loras.reduce((a, l) => a + l.parameters, 0);
    parts.lora = { parameters, tensors: extras.loras.reduce((a, l) => a + l.tensors, 0), bytes: { fp16: parameters * 2, fp32: parameters * 4 }, adapters: [...extras.loras] };
  }
  // Components first, total last, so the JSON reads component by component.
  return { ...parts, total: sum(Object.values(parts)) };
}

/** LoRA counts for a rank/targets config on this DiT. */
export function loraCount(arch: ModelArchitecture, name: string, cfg: LoraConfig): { name: string; parameters: number; tensors: number; rank: number } {
  const specs = loraParams(arch.dit, cfg);
  return { name, parameters: countParams(specs), tensors: specs.length, rank: cfg.rank };
}

/** A LoRA entry's counts: from its config when the manifest has one, else from its file's header. */
async function loraEntryCount(arch: ModelArchitecture, pkgDir: string, l: LoraEntry): Promise<{ name: string; parameters: number; tensors: number; rank: number | null }> {
  if (l.config) return loraCount(arch, l.name, { rank: l.config.rank, alpha: l.config.alpha, targets: l.config.targets });
  const f = l.files.find((x) => x.format === 'safetensors');
  if (!f) return { name: l.name, parameters: 0, tensors: 0, rank: null };
  const st = await SafetensorsFile.open(resolveFilePath(pkgDir, f));
  try {
    const ts = st.tensors().filter((t) => /lora_(A|B|down|up)(\.default)?\.weight$/.test(t.name));
    const ranks = new Set(ts.filter((t) => /lora_(A|down)/.test(t.name)).map((t) => t.shape[0]!));
    return { name: l.name, parameters: ts.reduce((a, t) => a + t.numel, 0), tensors: ts.length, rank: ranks.size === 1 ? [...ranks][0]! : null };
  } finally {
    await st.close();
  }
}

export interface DescribeTarget {
  /** What was described: an architecture name, a config file, or a package folder. */
  source: string;
  arch: ModelArchitecture;
  extras: DescribeExtras;
}

/**
 * Resolves `refree models describe <arg>`: a known architecture name, a package folder (or its
 * refree.json), or a JSON config: an architecture object, or {architecture, refree?, lora?}.
 */
export async function resolveDescribeTarget(arg: string): Promise<DescribeTarget> {
  if (ARCHITECTURES[arg]) return { source: arg, arch: ARCHITECTURES[arg], extras: {} };
  const st = await stat(arg).catch(() => null);
  if (!st) throw new Error(`"${arg}" is neither a known architecture (${Object.keys(ARCHITECTURES).join(', ')}) nor a config file or package folder`);
  if (st.isDirectory() || path.basename(arg) === MANIFEST_FILE) {
    const { dir, manifest } = await readManifest(arg);
    const arch = resolveArchitecture(manifest.architecture);
    const refree = manifest.components.refree ? resolveReFreeConfig(manifest.components.refree.config) : null;
    const loras = await Promise.all((manifest.components.lora ?? []).map((l) => loraEntryCount(arch, dir, l)));
    return { source: dir, arch, extras: { refree, loras } };
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(arg, 'utf8'));
  } catch (e) {
    throw new Error(`${arg}: not a JSON config (${(e as Error).message})`, { cause: e });
  }
  const obj = json as Record<string, unknown>;
  if (obj && typeof obj === 'object' && obj.format !== undefined) {
    const m = parseManifest(json, arg);
    const arch = resolveArchitecture(m.architecture);
    const loras = await Promise.all((m.components.lora ?? []).map((l) => loraEntryCount(arch, path.dirname(path.resolve(arg)), l)));
    return { source: arg, arch, extras: { refree: m.components.refree ? resolveReFreeConfig(m.components.refree.config) : null, loras } };
  }
  if (obj && typeof obj === 'object' && 'architecture' in obj) {
    const a = obj.architecture;
    const arch = typeof a === 'string' ? resolveArchitecture(a) : (ArchitectureSchema.parse(a) as ModelArchitecture);
    const refree = obj.refree ? resolveReFreeConfig(obj.refree as string | ReFreeConfig) : null;
    const l = obj.lora as { rank?: number; alpha?: number; targets?: string[] } | undefined;
    const loras = l && typeof l.rank === 'number' ? [loraCount(arch, 'lora', { rank: l.rank, alpha: l.alpha, targets: l.targets })] : [];
    return { source: arg, arch, extras: { refree, loras } };
  }
  const r = ArchitectureSchema.safeParse(json);
  if (!r.success) throw new Error(`${arg}: not an architecture config: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return { source: arg, arch: r.data as ModelArchitecture, extras: {} };
}
