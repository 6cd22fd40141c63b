// NVIDIA GPUs for device.info, asynchronously: a host's event loop must not block for the seconds
// nvidia-smi can take when a driver is waking up (engine/runtime/gpu-info.ts is the synchronous
// version the CLI uses; the parser is shared).
import { execFile } from 'node:child_process';
import type { GpuReport } from '../runtime/gpu-info.js';
import { parseNvidiaSmi } from '../runtime/gpu-info.js';

export function queryNvidiaGpusAsync(): Promise<GpuReport> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total,memory.used', '--format=csv,noheader'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ gpus: [], reason: 'no NVIDIA GPU found (nvidia-smi not on PATH)' });
        const detail = (String(stdout) || String(stderr) || err.message).trim().split('\n')[0];
        return resolve({ gpus: [], reason: `nvidia-smi failed (${detail}); the NVIDIA driver may not be loaded` });
      }
      const gpus = parseNvidiaSmi(String(stdout));
      resolve({ gpus, reason: gpus.length ? null : 'nvidia-smi listed no GPU' });
    });
  });
}
