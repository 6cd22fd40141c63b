// `refree run <dit | vae-encode | vae-decode | t5>`: one component of a model on tensors in a
// safetensors file, writing its outputs to another (tensor names: docs/RUN-COMPONENTS.md).
//   refree run dit        --package P --inputs in.safetensors --out out.safetensors
//   refree run vae-encode --package P --inputs in.safetensors --out out.safetensors
//   refree run vae-decode --package P --inputs in.safetensors --out out.safetensors
//   refree run t5         --package P --prompt "…" --out out.safetensors
// Instead of --package: --arch <name|config.json> --weights <file> [--weights <file> ...] (tests, experiments).
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSource } from '../model/package/source.js';
import { filesSource, openPackageSource } from '../model/package/source.js';
import { architectureFromArg, resolveReFreeConfig } from '../model/package/manifest.js';
import { formatBytes, progressReporter } from '../model/package/progress.js';
import type { EngineDtype } from '../model/package/engine-cache.js';
import type { HostTensor, RunInfo } from '../model/run/common.js';
import { RunError, readTensorFile, writeTensorFile } from '../model/run/common.js';
import { OutputIsInputError, refuseOutputOverInput } from '../common/same-file.js';
import { runDit } from '../model/run/dit.js';
import { runT5FromSource } from '../model/run/t5.js';
import { runVae } from '../model/run/vae.js';
import type { Backend } from '../runtime/session.js';
import type { Command, CommandContext } from './command.js';
import { UsageError } from './command.js';

const COMPONENTS = ['dit', 'vae-encode', 'vae-decode', 't5'] as const;
type Component = (typeof COMPONENTS)[number];

const HELP = `Usage: refree run <dit|vae-encode|vae-decode|t5> --package <pkg> [--inputs <in.safetensors>] [--prompt "..."] --out <out.safetensors> [--json]

Runs one component of a model on the tensors in --inputs and writes its outputs to --out
(safetensors, float32). Tensor names (docs/RUN-COMPONENTS.md):
  dit         in:  latents [B,C,F,h,w], timesteps [B,F] or [B,L], context [B,n<=512,4096] (optional with a
                   cached text context), speech [B,4(F-1)+1,S] (optional; needs a ReFree adapter)
              out: velocity [B,C,F,h,w]
  vae-encode  in:  video [B,3,T,H,W] in [-1,1], T = 4n+1, H,W multiples of 16
              out: latents [B,48,n+1,H/16,W/16] (normalised)
  vae-decode  in:  latents [B,48,F,h,w]           out: video [B,3,4(F-1)+1,16h,16w] in [-1,1]
  t5          --prompt "..."                      out: context [1,512,4096], tokens, mask, length

Options:
  --package <dir>        model package (refree.json)
  --arch <name|json>     instead of --package: an architecture (e.g. tiny) ...
  --weights <file>       ... with its weights (.safetensors/.pth; repeat for several files)
  --refree <preset|json> with --arch: the ReFree adapter config (its weights in --weights)
  --tokenizer <dir>      with --arch: folder with tokenizer.json (for t5)
  --engine-dir <dir>     with --arch: engine cache folder (default under the OS temp folder)
  --backend <b>          cuda | webgpu | cpu (default: the first that works)
  --dtype <d>            float32 | float16 weights in the engine (default float32 on cpu, float16 on GPU)
  --attention <a>        dit: fused (default) | naive | blockwise; vae: naive (default) | fused
  --json                 print one JSON object on stdout`;

async function modelSource(ctx: CommandContext): Promise<ModelSource> {
  const v = ctx.values;
  if (v.package) {
    if (v.arch || v.weights) throw new UsageError('give either --package or --arch with --weights, not both');
    return openPackageSource(v.package as string);
  }
  if (!v.arch) throw new UsageError('say which model to run: --package <dir>, or --arch <name> --weights <file>');
  const weights = ((v.weights as string[] | undefined) ?? []).map((w) => path.resolve(w));
  if (!weights.length) throw new UsageError('--arch needs the weights: --weights <file.safetensors|.pth>');
  const arch = await architectureFromArg(v.arch as string);
  const r = v.refree as string | undefined;
  return filesSource(arch, weights, {
    engineDir: v['engine-dir'] ? path.resolve(v['engine-dir'] as string) : undefined,
    refree: r ? resolveReFreeConfig(r.endsWith('.json') ? (JSON.parse(await readFile(r, 'utf8')) as Record<string, unknown>) : r) : null,
    tokenizerDir: v.tokenizer ? path.resolve(v.tokenizer as string) : null,
  });
}

function need(inputs: Map<string, HostTensor>, name: string, file: string, expected: string): HostTensor {
  const t = inputs.get(name);
  if (!t) throw new RunError(`${file} has no tensor named "${name}" (expected ${expected}; it has: ${[...inputs.keys()].join(', ') || 'no tensors'})`);
  return t;
}

function unusedNote(inputs: Map<string, HostTensor>, used: readonly string[]): string[] {
  const extra = [...inputs.keys()].filter((k) => !used.includes(k));
  return extra.length ? [`ignored input tensor(s): ${extra.join(', ')}`] : [];
}

export const run: Command = {
  name: 'run',
  summary: 'run one model component (dit, vae-encode, vae-decode, t5) on tensors in a file',
  help: HELP,
  options: {
    package: { type: 'string' },
    arch: { type: 'string' },
    weights: { type: 'string', multiple: true },
    refree: { type: 'string' },
    tokenizer: { type: 'string' },
    'engine-dir': { type: 'string' },
    inputs: { type: 'string' },
    out: { type: 'string' },
    prompt: { type: 'string' },
    backend: { type: 'string' },
    dtype: { type: 'string' },
    attention: { type: 'string' },
  },
  async run(ctx) {
    try {
      return await runComponent(ctx);
    } catch (e) {
      // With --json, failures are one JSON line too (usage errors stay with main: exit code 2).
      if (!ctx.json || e instanceof UsageError) throw e;
      ctx.io.stdout(JSON.stringify({ ok: false, error: (e as Error).message }));
      return 1;
    }
  },
};

async function runComponent(ctx: CommandContext): Promise<number> {
  const component = ctx.positionals[0] as Component | undefined;
  if (!component || !COMPONENTS.includes(component)) {
    throw new UsageError(component ? `unknown component "${component}" (${COMPONENTS.join(', ')})` : `run needs a component: ${COMPONENTS.join(', ')}`);
  }
  const v = ctx.values;
  const out = v.out as string | undefined;
  if (!out) throw new UsageError('--out <file.safetensors> is required');
  const backend = v.backend as Backend | undefined;
  if (backend !== undefined && !['cuda', 'webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend must be cuda, webgpu or cpu, got "${backend}"`);
  const dtype = v.dtype as EngineDtype | undefined;
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float16') throw new UsageError(`--dtype must be float32 or float16, got "${dtype}"`);
  const inputsFile = v.inputs as string | undefined;
  if (component !== 't5' && !inputsFile) throw new UsageError(`run ${component} needs --inputs <file.safetensors>`);
  if (component === 't5' && typeof v.prompt !== 'string') throw new UsageError('run t5 needs --prompt "..."');
  if (inputsFile) {
    const st = statSync(inputsFile, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`--inputs ${inputsFile}: there is no such file`);
    if (st.isDirectory()) throw new UsageError(`--inputs ${inputsFile} is a folder; give the .safetensors file of input tensors`);
  }
  try {
    refuseOutputOverInput(out, [
      ['--inputs', inputsFile],
      ...((v.weights as string[] | undefined) ?? []).map((w) => ['--weights', w] as const),
      ['--refree', v.refree as string | undefined],
    ], '--out');
  } catch (e) {
    if (e instanceof OutputIsInputError) throw new UsageError(e.message);
    throw e;
  }

  const src = await modelSource(ctx);
  const progress = progressReporter(ctx.io, 'converting weights');
  const common = { backend, dtype, onProgress: (p: { done: number; total: number; file: string }) => progress.update(p) };
  const outPath = path.resolve(out);
  const meta = (info: RunInfo): Record<string, string> => ({ component, model: src.name, backend: info.backend, dtype: info.dtype });
  let info: RunInfo;
  let outputs: Record<string, number[]>;
  let extraNotes: string[] = [];
  if (component === 't5') {
    const r = await runT5FromSource(src, v.prompt as string, outPath, common);
    info = r;
    outputs = { context: [1, r.textLen, r.dim], tokens: [1, r.textLen], mask: [1, r.textLen], length: [1] };
  } else {
    const inputs = await readTensorFile(path.resolve(inputsFile!));
    if (component === 'dit') {
      const attention = (v.attention as 'fused' | 'naive' | 'blockwise' | undefined) ?? undefined;
      const r = await runDit(
        src,
        {
          latents: need(inputs, 'latents', inputsFile!, 'latents [B,C,F,h,w]'),
          timesteps: need(inputs, 'timesteps', inputsFile!, 'timesteps [B,F] or [B,L]'),
          context: inputs.get('context'),
          speech: inputs.get('speech'),
        },
        { ...common, attention },
      );
      extraNotes = unusedNote(inputs, ['latents', 'timesteps', 'context', 'speech']);
      await writeTensorFile(outPath, { velocity: { data: r.velocity, shape: r.shape } }, { ...meta(r), speech: String(r.speech), loras: r.loras.join(','), timesteps: r.timesteps });
      info = r;
      outputs = { velocity: r.shape };
    } else {
      const mode = component === 'vae-encode' ? 'encode' : 'decode';
      const inName = mode === 'encode' ? 'video' : 'latents';
      const outName = mode === 'encode' ? 'latents' : 'video';
      const r = await runVae(src, mode, need(inputs, inName, inputsFile!, mode === 'encode' ? 'video [B,3,T,H,W] in [-1,1]' : 'latents [B,z,F,h,w]'), { ...common, attention: v.attention as 'naive' | 'fused' | undefined });
      extraNotes = unusedNote(inputs, [inName]);
      await writeTensorFile(outPath, { [outName]: { data: r.output, shape: r.shape } }, meta(r));
      info = r;
      outputs = { [outName]: r.shape };
    }
  }
  progress.finish();
  const notes = [...info.notes, ...extraNotes];
  if (ctx.json) {
    ctx.io.stdout(JSON.stringify({ ok: true, component, model: src.name, out: outPath, outputs, backend: info.backend, dtype: info.dtype, engines: info.engines, weights: info.weights, notes, seconds: info.seconds }));
  } else {
    const shapes = Object.entries(outputs).map(([k, s]) => `${k} [${s.join(',')}]`).join(', ');
    ctx.io.stdout(
      [
        `${component}: ${shapes} -> ${outPath}`,
        `  ${info.backend}, ${info.dtype} weights (${info.weights.inPlace} in place, ${info.weights.converted} from the engine cache${info.weights.writtenBytes ? `, ${formatBytes(info.weights.writtenBytes)} converted now` : ''}), ${info.seconds.toFixed(2)} s`,
        ...notes.map((n) => `  note: ${n}`),
      ].join('\n'),
    );
  }
  return 0;
}
