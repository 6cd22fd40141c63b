// `refree doctor`: what this machine can run, checked for real. Every backend opens and runs a small
// session (a backend that "exists" but cannot run is reported as not working, with the reason);
// ffmpeg/ffprobe are run with -version; the GPU is read from nvidia-smi.
import type { BackendStatus } from '../runtime/backends.js';
import { BACKEND_ORDER, planBackends, probeBackend } from '../runtime/backends.js';
import type { ToolResolution } from '../runtime/ffmpeg.js';
import { resolveTool } from '../runtime/ffmpeg.js';
import type { GpuReport } from '../runtime/gpu-info.js';
import { queryNvidiaGpus } from '../runtime/gpu-info.js';
import { ort } from '../runtime/ort.js';
import type { Backend } from '../runtime/session.js';
import type { Command } from './command.js';
import { json, table } from './output.js';

export interface DoctorReport {
  ok: boolean;
  node: string;
  platform: string;
  arch: string;
  onnxruntime: { version: string | null; error: string | null };
  backends: BackendStatus[];
  /** What sessions use by default, and why the backends before it are skipped. */
  selected: { backend: Backend | null; skipped: string[] };
  ffmpeg: ToolResolution;
  ffprobe: ToolResolution;
  gpu: GpuReport;
  /** Sentences for what is missing, in order of importance. */
  problems: string[];
}

export async function collectDoctorReport(): Promise<DoctorReport> {
  const onnxruntime: DoctorReport['onnxruntime'] = { version: null, error: null };
  const backends: BackendStatus[] = [];
  let selected: DoctorReport['selected'] = { backend: null, skipped: [] };
  try {
    const versions = (ort().env as { versions?: { node?: string; common?: string } }).versions;
    onnxruntime.version = versions?.node ?? versions?.common ?? 'unknown';
    for (const b of BACKEND_ORDER) backends.push(await probeBackend(b));
    const plan = await planBackends();
    selected = { backend: plan.order[0] ?? null, skipped: plan.skipped };
  } catch (e) {
    onnxruntime.error = (e as Error).message;
  }
  const ffmpeg = resolveTool('ffmpeg');
  const ffprobe = resolveTool('ffprobe');
  const gpu = queryNvidiaGpus();
  const problems: string[] = [];
  if (onnxruntime.error) problems.push(onnxruntime.error);
  else if (!backends.find((b) => b.backend === 'cpu')?.works) problems.push('the cpu backend does not run a session, so nothing can run: reinstall with `npm ci`');
  if (!ffmpeg.path) problems.push(ffmpeg.advice!);
  if (!ffprobe.path) problems.push(ffprobe.advice!);
  return {
    ok: problems.length === 0,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    onnxruntime,
    backends,
    selected,
    ffmpeg,
    ffprobe,
    gpu,
    problems,
  };
}

function toolLine(t: ToolResolution): string[] {
  if (!t.path) return [t.tool, 'missing', t.advice ?? ''];
  const note = t.tried.length ? ` (skipped: ${t.tried.join('; ')})` : '';
  return [t.tool, t.version ?? '?', `${t.path} — from ${t.sourceLabel}${note}`];
}

export function formatDoctorReport(r: DoctorReport): string {
  const out: string[] = ['ReFree Studio doctor', ''];
  out.push(table([
    ['Node.js', `${r.node} (${r.platform} ${r.arch})`],
    ['onnxruntime-node', r.onnxruntime.version ?? `not loadable: ${r.onnxruntime.error}`],
  ]));
  out.push('', 'Backends (each opens and runs a small session)');
  out.push(table(r.backends.map((b) => [b.backend, b.works ? 'works' : 'no', b.ms !== undefined ? `${b.ms} ms` : '', b.reason ?? ''])));
  if (r.selected.backend) {
    // Reasons for backends that do not work are in the table already; repeat only policy skips.
    const working = new Set(r.backends.filter((b) => b.works).map((b) => `${b.backend}:`));
    const policy = r.selected.skipped.filter((s) => working.has(s.slice(0, s.indexOf(':') + 1)));
    out.push(`  → sessions use ${r.selected.backend} by default`, ...policy.map((s) => `    ${s}`));
  } else out.push('  → no backend can run sessions');
  out.push('', 'Media');
  out.push(table([toolLine(r.ffmpeg), toolLine(r.ffprobe)]));
  out.push('', 'GPU');
  if (r.gpu.gpus.length) out.push(table(r.gpu.gpus.map((g, i) => [`#${i}`, g.name, `${(g.memoryTotalMiB / 1024).toFixed(1)} GiB total`, `${(g.memoryUsedMiB / 1024).toFixed(1)} GiB used`])));
  else out.push(`  ${r.gpu.reason}`);
  out.push('');
  out.push(r.ok ? 'All essentials work.' : `Problems:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
  return out.join('\n');
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check backends (cuda, webgpu, cpu), ffmpeg/ffprobe and the GPU on this machine',
  help: `Usage: refree doctor [--json]

Checks, for real, what this machine can run:
  - Node.js and onnxruntime-node versions;
  - each backend (cuda, webgpu, cpu): opens and runs a small session, or says why not;
  - which backend sessions use by default;
  - ffmpeg and ffprobe: path, where they came from (FFMPEG_PATH/FFPROBE_PATH, the npm package, or the system PATH), version;
  - the NVIDIA GPU's name and memory (nvidia-smi).
Exit code 0 when the cpu backend, ffmpeg and ffprobe work; 1 otherwise.`,
  options: {},
  async run({ json: asJson, io }) {
    const report = await collectDoctorReport();
    io.stdout(asJson ? json(report) : formatDoctorReport(report));
    return report.ok ? 0 : 1;
  },
};
