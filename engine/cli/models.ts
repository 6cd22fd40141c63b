// `refree models import | create | merge | verify | describe`: model packages from the command line.
//   import <dir> [--out <pkgdir>] [--name <name>] [--arch <name|config.json>] [--allow-unknown-keys]
//   create --dit <file> [--vae <file>] [--t5 <file>] [--tokenizer <dir>] [--wav2vec2 <file>] [--arch <name|config.json>] --out <pkgdir>
//   verify <pkg>
//   describe <architecture-name | config.json | pkg> [--refree <preset|config.json>] [--lora-rank <r>]
// With --json each prints exactly one JSON object on one line; progress (hashing) goes to stderr.
import { readFile } from 'node:fs/promises';
import { describeArchitecture, loraCount, resolveDescribeTarget } from '../model/describe.js';
import type { Description } from '../model/describe.js';
import { createPackage } from '../model/package/create.js';
import { ImportError, importWanFolder } from '../model/package/import.js';
import type { ImportReport } from '../model/package/import.js';
import { ManifestError, readArchitectureArg, resolveReFreeConfig } from '../model/package/manifest.js';
import { formatBytes, progressReporter } from '../model/package/progress.js';
import { verifyPackage } from '../model/package/verify.js';
import type { VerifyReport } from '../model/package/verify.js';
import path from 'node:path';
import { mergeAdapter } from '../train/merge.js';
import type { Command, CommandContext } from './command.js';
import { UsageError } from './command.js';
import { table } from './output.js';

const HELP = `Usage: refree models <import|create|merge|verify|describe> ... [--json]

  refree models import <dir> [--out <pkgdir>] [--name <name>] [--arch <name|config.json>] [--allow-unknown-keys]
      Make a model package from a Wan2.2-TI2V-5B download: the original layout (diffusion_pytorch_model*.safetensors,
      Wan2.2_VAE.pth or .safetensors, models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/), the Diffusers layout
      (transformer/, vae/, text_encoder/, tokenizer/) or ComfyUI files (diffusion_models/, vae/, text_encoders/).
      Every DiT, VAE and umT5 key is checked against the architecture; the package REFERENCES the files
      (nothing is copied) and records each file's size and SHA-256.
      --out     package folder to write (default ./<name>)
      --name    package name (default: the download folder's name)
      --arch    architecture: a name, or a config.json as the model ships it (default: the known one the
                DiT files match, else the download's own config.json)

  refree models create --dit <file> [--vae <file>] [--t5 <file>] [--tokenizer <dir>] [--wav2vec2 <file>] [--arch <name|config.json>] --out <pkgdir>
      Make a model package around loose weight files (.safetensors or .pth, any key layout); --dit may be
      repeated for shards or name a shard index .json. Same checks, sizes and SHA-256s as import.
      --wav2vec2 adds the speech front-end from a Hugging Face wav2vec2 checkpoint (config.json beside it).

  refree models merge <adapter> --out <pkgdir> [--name <name>]
      Fold a fine-tuned adapter (a training run's adapter folder) into a standalone package: the LoRA is
      merged into the DiT weights and the base's other files are copied. --name names the package
      (default: the adapter's name + "-merged").

  refree models verify <pkg>
      Re-hash every file of a package and check sizes, SHA-256 and headers; reports each mismatch by file.

  refree models describe <wan2.2-ti2v-5b | tiny | config.json | pkg> [--refree <preset|config.json>] [--lora-rank <r>]
      Parameter counts per component (and bytes at fp16/fp32), computed from the architecture alone.

Options:
  --json   print one JSON object (one line) on stdout`;

const num = (n: number): string => n.toLocaleString('en-US');

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout(JSON.stringify(value));
}

async function runImport(ctx: CommandContext): Promise<number> {
  const dir = ctx.positionals[1];
  if (!dir) throw new UsageError('models import needs the download folder: refree models import <dir>');
  const archArg = ctx.values.arch ? await readArchitectureArg(ctx.values.arch as string) : null;
  const progress = progressReporter(ctx.io, 'hashing');
  const report: ImportReport = await importWanFolder(dir, {
    out: ctx.values.out as string | undefined,
    name: ctx.values.name as string | undefined,
    arch: archArg?.arch,
    ditOnly: archArg?.ditOnly,
    allowUnknownKeys: Boolean(ctx.values['allow-unknown-keys']),
    onProgress: (p) => progress.update(p),
    signal: ctx.signal,
  });
  progress.finish();
  printReport(ctx, report, 'Imported');
  return 0;
}

async function runCreate(ctx: CommandContext): Promise<number> {
  const list = (k: string): string[] => (ctx.values[k] as string[] | undefined) ?? [];
  if (ctx.positionals.length > 1) throw new UsageError(`models create takes its files as options (--dit, --vae, --t5), not "${ctx.positionals[1]}"`);
  if (!list('dit').length) throw new UsageError('models create needs the DiT weights: --dit <file> (repeat for shards)');
  const out = ctx.values.out as string | undefined;
  if (!out) throw new UsageError('models create needs the package folder to write: --out <pkgdir>');
  const archArg = ctx.values.arch ? await readArchitectureArg(ctx.values.arch as string) : null;
  const progress = progressReporter(ctx.io, 'hashing');
  const report = await createPackage({
    dit: list('dit'),
    vae: list('vae'),
    t5: list('t5'),
    tokenizer: ctx.values.tokenizer as string | undefined,
    wav2vec2: ctx.values.wav2vec2 as string | undefined,
    out,
    name: ctx.values.name as string | undefined,
    arch: archArg?.arch,
    ditOnly: archArg?.ditOnly,
    archFile: archArg?.ditOnly ? archArg.file : null,
    allowUnknownKeys: Boolean(ctx.values['allow-unknown-keys']),
    onProgress: (p) => progress.update(p),
    signal: ctx.signal,
  });
  progress.finish();
  printReport(ctx, report, 'Created');
  return 0;
}

function printReport(ctx: CommandContext, report: ImportReport, verb: string): void {
  if (ctx.json) {
    printJson(ctx, report);
    return;
  }
  const rows = Object.entries(report.components).map(([k, c]) => [k, `${c.files} file${c.files === 1 ? '' : 's'}`, formatBytes(c.bytes), c.tensors ? `${num(c.tensors)} tensors` : '', c.keyLayout, c.dtype ?? '']);
  const from = report.layout === 'files' ? 'from files' : `${report.layout} layout`;
  ctx.io.stdout(
    [
      `${verb} ${report.name} (${report.architecture}, ${from}) in ${report.seconds.toFixed(1)} s`,
      table(rows),
      ...report.notes.map((n) => `note: ${n}`),
      `Package: ${report.package} (the weights stay where they are; ${formatBytes(report.hashedBytes)} hashed)`,
    ].join('\n'),
  );
}

async function runMerge(ctx: CommandContext): Promise<number> {
  const adapter = ctx.positionals[1];
  if (!adapter) throw new UsageError('models merge needs the adapter folder: refree models merge <adapter> --out <pkgdir>');
  if (typeof ctx.values.out !== 'string') throw new UsageError('models merge needs --out <pkgdir> for the merged package');
  const name = typeof ctx.values.name === 'string' ? ctx.values.name : undefined;
  if (name !== undefined && !/^[\w.-]{1,64}$/.test(name)) throw new UsageError(`--name "${name}" is not a usable package name: use 1–64 letters, digits, dots, dashes or underscores`);
  const file = await mergeAdapter(adapter, ctx.values.out, name ? { name } : {});
  if (ctx.json) printJson(ctx, { ok: true, package: path.dirname(file), manifest: file });
  else ctx.io.stdout(`${path.dirname(file)}\n  merged package (refree.json: ${file})`);
  return 0;
}

async function runVerify(ctx: CommandContext): Promise<number> {
  const pkg = ctx.positionals[1];
  if (!pkg) throw new UsageError('models verify needs a package folder: refree models verify <pkg>');
  const progress = progressReporter(ctx.io, 'verifying');
  const report: VerifyReport = await verifyPackage(pkg, { onProgress: (p) => progress.update(p), signal: ctx.signal });
  progress.finish();
  if (ctx.json) printJson(ctx, report);
  else {
    const lines = [`${report.name}: ${report.files.length} files, ${formatBytes(report.checkedBytes)} hashed in ${report.seconds.toFixed(1)} s`];
    for (const f of report.files) {
      lines.push(`  ${f.ok ? 'ok  ' : 'FAIL'}  ${f.component.padEnd(12)} ${f.file}`);
      for (const p of f.problems) lines.push(`          ${p}`);
    }
    lines.push(report.ok ? 'All files match the package.' : `${report.problems.length} problem(s) found.`);
    ctx.io.stdout(lines.join('\n'));
  }
  return report.ok ? 0 : 1;
}

async function runDescribe(ctx: CommandContext): Promise<number> {
  const arg = ctx.positionals[1];
  if (!arg) throw new UsageError('models describe needs an architecture name, a config file or a package: refree models describe wan2.2-ti2v-5b');
  const target = await resolveDescribeTarget(arg);
  const extras = { ...target.extras };
  if (ctx.values.refree) {
    const r = ctx.values.refree as string;
    extras.refree = resolveReFreeConfig(r.endsWith('.json') ? (JSON.parse(await readFile(r, 'utf8')) as Record<string, unknown>) : r);
  }
  if (ctx.values['lora-rank'] !== undefined) {
    const rank = Number(ctx.values['lora-rank']);
    if (!Number.isInteger(rank) || rank < 1) throw new UsageError(`--lora-rank must be a positive integer, got ${String(ctx.values['lora-rank'])}`);
    extras.loras = [...(extras.loras ?? []), loraCount(target.arch, `rank-${rank}`, { rank })];
  }
  const d: Description = describeArchitecture(target.arch, extras);
  if (ctx.json) {
    printJson(ctx, d);
    return 0;
  }
  const rows: string[][] = [['component', 'parameters', 'tensors', 'fp16', 'fp32']];
  for (const [k, c] of Object.entries(d)) rows.push([k, num(c.parameters), num(c.tensors), formatBytes(c.bytes.fp16), formatBytes(c.bytes.fp32)]);
  ctx.io.stdout([`${target.arch.name} (${target.source})`, table(rows), `  VAE: encoder ${num(d.vae.encoder)}, decoder ${num(d.vae.decoder)}`].join('\n'));
  return 0;
}

export const models: Command = {
  name: 'models',
  summary: 'import, create, verify and describe model packages',
  help: HELP,
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    arch: { type: 'string' },
    'allow-unknown-keys': { type: 'boolean' },
    dit: { type: 'string', multiple: true },
    vae: { type: 'string', multiple: true },
    t5: { type: 'string', multiple: true },
    tokenizer: { type: 'string' },
    wav2vec2: { type: 'string' },
    refree: { type: 'string' },
    'lora-rank': { type: 'string' },
  },
  async run(ctx) {
    const sub = ctx.positionals[0];
    const fn = sub === 'import' ? runImport : sub === 'create' ? runCreate : sub === 'merge' ? runMerge : sub === 'verify' ? runVerify : sub === 'describe' ? runDescribe : null;
    if (!fn) throw new UsageError(sub ? `unknown models subcommand "${sub}" (import, create, merge, verify, describe)` : 'models needs a subcommand: import, create, merge, verify or describe');
    try {
      return await fn(ctx);
    } catch (e) {
      // With --json, failures are one JSON line too (usage errors stay with main: exit code 2).
      if (!ctx.json || e instanceof UsageError) throw e;
      const problems = e instanceof ImportError || e instanceof ManifestError ? { problems: e.problems } : {};
      printJson(ctx, { ok: false, error: (e as Error).message, ...problems });
      return 1;
    }
  },
};
