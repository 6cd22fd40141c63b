// A progress bar with rate and ETA for long byte-bound work (hashing a 20 GB download). On a terminal
// it redraws one stderr line in place; elsewhere (logs, CI, --json runs piped to a file) it prints a
// plain line every 10% or every 15 s, so a log shows progress without flooding.
import path from 'node:path';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One progress line: `label  42% [=====>    ] 8.40 GB / 20.1 GB  310 MB/s  ETA 38s  file`. */
export function progressLine(label: string, done: number, total: number, elapsedSeconds: number, detail = '', width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (frac >= 1 ? '=' : '>') : '') + ' '.repeat(width - filled);
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${label} ${pct} [${bar}] ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${frac >= 1 ? '0s' : formatDuration(eta)}${detail ? `  ${detail}` : ''}`;
}

export interface ProgressSink {
  stderr(text: string): void;
  readonly isTTY: boolean;
}

/** A reporter for hashFiles-style callbacks ({done, total, file}). Call finish() once at the end. */
export function progressReporter(sink: ProgressSink, label: string): { update(p: { done: number; total: number; file: string }): void; finish(): void } {
  const t0 = performance.now();
  let lastDraw = 0;
  let lastPlainFrac = -1;
  let lastPlainTime = 0;
  let drawn = false;
  let last: { done: number; total: number; file: string } | null = null;
  const line = (p: { done: number; total: number; file: string }): string => progressLine(label, p.done, p.total, (performance.now() - t0) / 1000, path.basename(p.file));
  return {
    update(p) {
      last = p;
      const now = performance.now();
      if (sink.isTTY) {
        if (now - lastDraw < 100 && p.done < p.total) return;
        lastDraw = now;
        sink.stderr(`\r${line(p)}\x1b[K`);
        drawn = true;
        return;
      }
      const frac = p.total > 0 ? p.done / p.total : 1;
      if (frac - lastPlainFrac >= 0.1 || now - lastPlainTime > 15_000) {
        lastPlainFrac = frac;
        lastPlainTime = now;
        sink.stderr(`${line(p)}\n`);
      }
    },
    finish() {
      if (sink.isTTY && drawn && last) sink.stderr(`\r${line({ ...last, done: last.total })}\x1b[K\n`);
      else if (!sink.isTTY && last && lastPlainFrac < 1) sink.stderr(`${line({ ...last, done: last.total })}\n`);
    },
  };
}
