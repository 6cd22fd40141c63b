// NVIDIA GPU name and memory from nvidia-smi, for `refree doctor` and for planning which sessions
// fit at once. Absent nvidia-smi is normal (CPU-only or non-NVIDIA machines), not an error.
import { execFileSync } from 'node:child_process';

export interface GpuInfo {
  name: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
}

export interface GpuReport {
  gpus: GpuInfo[];
  /** Why the list is empty, one line. */
  reason: string | null;
}

/** Parses `--query-gpu=name,memory.total,memory.used --format=csv,noheader` (with or without units). */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const out: GpuInfo[] = [];
  for (const line of csv.split('\n')) {
    if (!line.trim()) continue;
    // The name may itself contain commas in theory; memory fields are the last two.
    const parts = line.split(',').map((s) => s.trim());
    if (parts.length < 3) continue;
    const used = parseFloat(parts.pop()!);
    const total = parseFloat(parts.pop()!);
    out.push({ name: parts.join(', '), memoryTotalMiB: total, memoryUsedMiB: used });
  }
  return out;
}

export function queryNvidiaGpus(env: NodeJS.ProcessEnv = process.env): GpuReport {
  try {
    const csv = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,memory.used', '--format=csv,noheader'], { env, timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const gpus = parseNvidiaSmi(csv);
    return { gpus, reason: gpus.length ? null : 'nvidia-smi listed no GPU' };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer; stdout?: Buffer };
    if (err.code === 'ENOENT') return { gpus: [], reason: 'no NVIDIA GPU found (nvidia-smi not on PATH)' };
    const detail = (err.stdout?.toString() || err.stderr?.toString() || err.message).trim().split('\n')[0];
    return { gpus: [], reason: `nvidia-smi failed (${detail}); the NVIDIA driver may not be loaded` };
  }
}
