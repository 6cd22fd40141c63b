// The check's JSON report and its readable summary. Every field is present in every run (null when a
// stage did not produce it), so the local CI run and the GPU run can be read by the same code.
import type { GpuMemoryPeak } from './gpu-memory.js';
import type { CheckPlan, StageName } from './plan.js';
import { STAGES } from './plan.js';

export const REPORT_SCHEMA = 'refree-gpu-check/1';

export type StageStatus = 'ok' | 'failed' | 'timeout' | 'skipped' | 'not-available';

export interface StageRecord {
  status: StageStatus;
  seconds: number;
  budgetSeconds: number;
  /** Why it failed, timed out, was skipped or is not available (one sentence); null when ok. */
  reason: string | null;
  gpuMemory: GpuMemoryPeak | null;
  data: Record<string, unknown> | null;
}

type Fps = Record<string, number | null>;

export interface Results {
  backend: string | null;
  /** Attention forms that ran on the backend in the attention stage, best first (the DiT stages use the first). */
  attention: string[] | null;
  ditStepSeconds: number | null;
  ditSpeechStepSeconds: number | null;
  vaeDecodeSeconds: number | null;
  /** Highest GPU memory.used during each stage (MiB), whole GPU. */
  peakGpuMiB: Record<'dit' | 'ditSpeech' | 'vae' | 'precision' | 'loraSft', number | null>;
  /** Highest host RSS of each stage's process (MiB). */
  peakRssMiB: Record<'dit' | 'ditSpeech' | 'vae' | 'loraSft', number | null>;
  /** Video frames per second of generation: frames / (steps × passes × step seconds + VAE decode seconds). */
  projectedFps: { dit: Fps; ditSpeech: Fps; ditSpeechGuided: Fps };
  precision: {
    velocityMaxRelErr: number | null;
    velocityMeanRelErr: number | null;
    framesMaxRelErr: number | null;
    framesMeanRelErr: number | null;
    /** inf/NaN count in float16 velocity + frames, float32 velocity + frames. */
    nonFiniteFloat16: number | null;
    nonFiniteFloat32: number | null;
  };
  /** inf/NaN in the full-size float16 outputs. */
  nonFinite: { dit: number | null; ditSpeech: number | null; vae: number | null };
  /** dtype: the activations the step ran with; float16Error: why float16 did not run, when it did not. */
  loraSft: { available: boolean | null; stepSeconds: number | null; peakGpuMiB: number | null; dtype: string | null; float16Error: string | null };
  /** On a GPU backend: nodes ORT placed on the CPU in small graphs with the model's ops ("Op (name)"), per graph; null on the CPU backend. */
  cpuPlacement: Record<string, string[]> | null;
  /** On a GPU backend: why the graph did not open with the CPU fallback off (a node without a GPU kernel); null when every node ran on the GPU or not measured. */
  cpuNodes: { dit: string | null; ditSpeech: string | null; vae: string | null };
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  mode: CheckPlan['mode'];
  ok: boolean;
  startedAt: string;
  seconds: number;
  budgetSeconds: number;
  sizes: Record<string, unknown>;
  machine: Record<string, unknown> | null;
  backends: unknown[];
  results: Results;
  stages: Record<StageName, StageRecord>;
  summary: string[];
}

export function planSizes(plan: CheckPlan): Record<string, unknown> {
  const d = plan.arch.dit;
  const v = plan.arch.vae;
  const r = plan.refree;
  return {
    model: plan.arch.name,
    dit: { dim: d.dim, ffnDim: d.ffnDim, heads: d.heads, layers: d.layers, textLen: d.textLen, textDim: d.textDim, inDim: d.inDim },
    vae: { zDim: v.zDim, decDim: v.decDim, dimMult: v.dimMult },
    speech: { hidden: r.hidden, speechDim: r.speechDim, levels: r.levels, injectBlocks: r.injectBlocks.length, mode: r.mode },
    latent: { ...plan.latent, referenceFrames: 1, tokens: plan.latent.frames * (plan.latent.h / d.patch[1]) * (plan.latent.w / d.patch[2]) },
    pixels: plan.pixels,
    fps: plan.fps,
    dtype: plan.dtype,
    projectSteps: plan.projectSteps,
    guidancePasses: plan.guidancePasses,
    precision: { dit: { dim: plan.precision.dit.dim, heads: plan.precision.dit.heads, ffnDim: plan.precision.dit.ffnDim, layers: plan.precision.dit.layers }, vae: { decDim: plan.precision.vae.decDim } },
    lora: plan.lora,
    seed: plan.seed,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const get = (rec: StageRecord | undefined, ...keys: string[]): unknown => {
  let x: unknown = rec?.status === 'ok' ? rec.data : undefined;
  for (const k of keys) x = x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined;
  return x;
};

export function deriveResults(plan: CheckPlan, stages: Partial<Record<StageName, StageRecord>>): Results {
  const vaeS = num(get(stages.vae, 'decodeSeconds'));
  const fps = (step: number | null, passes: number): Fps =>
    Object.fromEntries(plan.projectSteps.map((n) => [`steps${n}`, step === null ? null : plan.pixels.frames / (n * passes * step + (vaeS ?? 0))]));
  const dit = num(get(stages.dit, 'stepSeconds'));
  const sp = num(get(stages.ditSpeech, 'stepSeconds'));
  const gpu = (s: StageName): number | null => stages[s]?.gpuMemory?.peakMiB ?? null;
  const sum = (...xs: unknown[]): number | null => (xs.every((x) => typeof x === 'number') ? (xs as number[]).reduce((a, b) => a + b, 0) : null);
  return {
    backend: (get(stages.probe, 'chosen') as string | undefined) ?? null,
    attention: (get(stages.attention, 'working') as string[] | undefined) ?? null,
    cpuPlacement: (get(stages.attention, 'cpuPlacement') as Record<string, string[]> | undefined) ?? null,
    ditStepSeconds: dit,
    ditSpeechStepSeconds: sp,
    vaeDecodeSeconds: vaeS,
    peakGpuMiB: { dit: gpu('dit'), ditSpeech: gpu('ditSpeech'), vae: gpu('vae'), precision: gpu('precision'), loraSft: gpu('loraSft') },
    peakRssMiB: { dit: num(get(stages.dit, 'peakRssMiB')), ditSpeech: num(get(stages.ditSpeech, 'peakRssMiB')), vae: num(get(stages.vae, 'peakRssMiB')), loraSft: num(get(stages.loraSft, 'peakRssMiB')) },
    projectedFps: { dit: fps(dit, 1), ditSpeech: fps(sp, 1), ditSpeechGuided: fps(sp, plan.guidancePasses) },
    precision: {
      velocityMaxRelErr: num(get(stages.precision, 'velocity', 'maxRelErr')),
      velocityMeanRelErr: num(get(stages.precision, 'velocity', 'meanRelErr')),
      framesMaxRelErr: num(get(stages.precision, 'frames', 'maxRelErr')),
      framesMeanRelErr: num(get(stages.precision, 'frames', 'meanRelErr')),
      nonFiniteFloat16: sum(get(stages.precision, 'velocity', 'nonFiniteFloat16'), get(stages.precision, 'frames', 'nonFiniteFloat16')),
      nonFiniteFloat32: sum(get(stages.precision, 'velocity', 'nonFiniteFloat32'), get(stages.precision, 'frames', 'nonFiniteFloat32')),
    },
    nonFinite: { dit: num(get(stages.dit, 'nonFinite')), ditSpeech: num(get(stages.ditSpeech, 'nonFinite')), vae: num(get(stages.vae, 'nonFinite')) },
    loraSft: {
      available: stages.loraSft?.status === 'ok' ? true : stages.loraSft?.status === 'not-available' ? false : null,
      stepSeconds: num(get(stages.loraSft, 'stepSeconds')) ?? num(get(stages.loraSft, 'firstStepSeconds')),
      peakGpuMiB: gpu('loraSft'),
      dtype: (get(stages.loraSft, 'dtype') as string | undefined) ?? null,
      float16Error: (get(stages.loraSft, 'float16Error') as string | undefined) ?? null,
    },
    cpuNodes: {
      dit: (get(stages.dit, 'cpuNodes') as string | null | undefined) ?? null,
      ditSpeech: (get(stages.ditSpeech, 'cpuNodes') as string | null | undefined) ?? null,
      vae: (get(stages.vae, 'cpuNodes') as string | null | undefined) ?? null,
    },
  };
}

const f = (v: number | null | undefined, digits = 3, unit = ''): string => (v === null || v === undefined ? '—' : `${Number(v.toPrecision(digits))}${unit}`);
const mib = (v: number | null): string => (v === null ? '—' : `${(v / 1024).toFixed(1)} GiB`);

/** The readable summary, one line per fact. */
export function summarize(r: Omit<Report, 'summary'>): string[] {
  const s = r.sizes as { latent: { frames: number; h: number; w: number; tokens: number }; pixels: { frames: number; height: number; width: number }; dit: { dim: number; layers: number } };
  const x = r.results;
  const lines: string[] = [];
  lines.push(`ReFree GPU check (${r.mode === 'gpu' ? 'full size' : 'local, reduced sizes'}) — ${r.ok ? 'every selected stage ran' : 'some stages did not run'} in ${r.seconds.toFixed(0)} s of ${r.budgetSeconds} s`);
  lines.push(`sizes: DiT dim ${s.dit.dim} × ${s.dit.layers} blocks; ${s.pixels.frames} frames ${s.pixels.width}×${s.pixels.height} → latent ${s.latent.frames}×${s.latent.h}×${s.latent.w} (${s.latent.tokens} tokens), float16`);
  for (const b of r.backends as { backend: string; works: boolean; reason?: string }[]) lines.push(`backend ${b.backend}: ${b.works ? 'works' : 'does not open'}${b.reason ? ` — ${b.reason}` : ''}`);
  lines.push(`measured on: ${x.backend ?? '—'}`);
  const forms = r.stages.attention?.data?.forms as Record<string, { status: string; firstRunSeconds?: number; runSeconds?: number; reason?: string | null }> | undefined;
  if (forms) lines.push(`attention forms: ${Object.entries(forms).map(([k, v]) => `${k} ${v.status === 'ok' ? `ran (first run ${f(v.firstRunSeconds, 2, ' s')}, then ${f(v.runSeconds, 2, ' s')})` : `${v.status}${v.reason ? ` (${v.reason})` : ''}`}`).join('; ')}`);
  lines.push(`DiT step: ${f(x.ditStepSeconds, 3, ' s')}  (peak GPU ${mib(x.peakGpuMiB.dit)}, inf/NaN ${x.nonFinite.dit ?? '—'})`);
  lines.push(`DiT + speech step: ${f(x.ditSpeechStepSeconds, 3, ' s')}  (peak GPU ${mib(x.peakGpuMiB.ditSpeech)}, inf/NaN ${x.nonFinite.ditSpeech ?? '—'})`);
  lines.push(`VAE decode of ${s.pixels.frames} frames: ${f(x.vaeDecodeSeconds, 3, ' s')}  (peak GPU ${mib(x.peakGpuMiB.vae)}, inf/NaN ${x.nonFinite.vae ?? '—'})`);
  const fpsLine = (label: string, v: Record<string, number | null>): string => `${label}: ${Object.entries(v).map(([k, n]) => `${k.replace('steps', '')} steps ${f(n, 3)} fps`).join(', ')}`;
  lines.push(fpsLine('projected, DiT only', x.projectedFps.dit));
  lines.push(fpsLine('projected, with speech', x.projectedFps.ditSpeech));
  lines.push(fpsLine('projected, with speech + guidance', x.projectedFps.ditSpeechGuided));
  const p = x.precision;
  lines.push(`float16 vs float32: velocity max rel err ${f(p.velocityMaxRelErr)} (mean ${f(p.velocityMeanRelErr)}), frames max rel err ${f(p.framesMaxRelErr)} (mean ${f(p.framesMeanRelErr)}), inf/NaN fp16 ${p.nonFiniteFloat16 ?? '—'} / fp32 ${p.nonFiniteFloat32 ?? '—'}`);
  if (x.cpuPlacement) lines.push(`nodes ${x.backend} leaves to the CPU: ${Object.entries(x.cpuPlacement).map(([k, v]) => `${k}: ${v.length ? v.join(', ') : 'none'}`).join('; ')}`);
  for (const [k, v] of Object.entries(x.cpuNodes)) if (v) lines.push(`${k}: not every node has a ${x.backend} kernel (${v}); those nodes ran on the CPU`);
  const l = x.loraSft;
  lines.push(`LoRA SFT step: ${l.available === false ? 'not available in this build' : `${f(l.stepSeconds, 3, ' s')} with ${l.dtype ?? '—'} activations (peak GPU ${mib(l.peakGpuMiB)})`}${l.float16Error ? `; float16 did not run: ${l.float16Error}` : ''}`);
  for (const name of STAGES) {
    const st = r.stages[name];
    const d = st.status !== 'ok' && st.data?.partial ? st.data : null;
    const before = d ? ` (measured before it stopped: ${['sessionSeconds', 'firstRunSeconds'].filter((k) => typeof d[k] === 'number').map((k) => `${k.replace('Seconds', '')} ${f(d[k] as number, 3, ' s')}`).join(', ') || 'nothing'})` : '';
    lines.push(`stage ${name}: ${st.status} in ${st.seconds.toFixed(1)} s of ${st.budgetSeconds} s${st.reason ? ` — ${st.reason}` : ''}${before}`);
  }
  return lines;
}

/**
 * CPU-placed nodes per graph from ORT's verbose log: "@@placement <graph>" markers (printed by the
 * stage), then "Node(s) placed on [CPUExecutionProvider]" followed by "   Op (name)" lines.
 */
export function parsePlacement(lines: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let graph: string | null = null;
  let onCpu = false;
  for (const raw of lines) {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    const m = /@@placement (\S+)/.exec(line);
    if (m) {
      graph = m[1]!;
      out[graph] = [];
      onCpu = false;
      continue;
    }
    const ep = /placed on \[(\w+)\]/.exec(line);
    if (ep) {
      onCpu = ep[1] === 'CPUExecutionProvider';
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\S+ \(.*\))\s*$/.exec(line);
    if (node && onCpu && graph) out[graph]!.push(node[1]!);
  }
  return out;
}
