// Peak GPU memory of a stage, from nvidia-smi polled every 200 ms (it sees every process's memory,
// whichever backend allocated it, which is what a creator's 24 GB card has to hold). Without
// nvidia-smi the peak is null and the reason says why; the check then still reports host memory.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface GpuMemoryPeak {
  /** Highest memory.used seen on any GPU during the stage, MiB (null: not measured). */
  peakMiB: number | null;
  /** memory.used when polling started, MiB: the stage's own use is peakMiB - baselineMiB. */
  baselineMiB: number | null;
  samples: number;
  reason: string | null;
}

export class GpuMemoryPoller {
  private proc: ChildProcess | null = null;
  private peak: number | null = null;
  private baseline: number | null = null;
  private samples = 0;
  private reason: string | null = null;
  private buf = '';

  start(intervalMs = 200): void {
    try {
      this.proc = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', `-lms`, String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      this.reason = `nvidia-smi could not start (${(e as Error).message})`;
      return;
    }
    this.proc.on('error', (e: NodeJS.ErrnoException) => {
      this.reason = e.code === 'ENOENT' ? 'nvidia-smi not on PATH (no NVIDIA driver), GPU memory not measured' : `nvidia-smi failed (${e.message})`;
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buf += chunk;
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      // One line per GPU per poll; the peak over all GPUs is what the check reports (one GPU there).
      for (const line of lines) {
        const v = parseFloat(line);
        if (!Number.isFinite(v)) continue;
        this.samples++;
        if (this.baseline === null) this.baseline = v;
        if (this.peak === null || v > this.peak) this.peak = v;
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
      if (!this.reason && s.trim()) this.reason = `nvidia-smi: ${s.trim().split('\n')[0]}`;
    });
  }

  stop(): GpuMemoryPeak {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    const reason = this.samples > 0 ? null : (this.reason ?? 'nvidia-smi printed no memory reading');
    return { peakMiB: this.peak, baselineMiB: this.baseline, samples: this.samples, reason };
  }
}
