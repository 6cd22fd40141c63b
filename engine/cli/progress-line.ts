// The one progress line every long `refree` command draws on stderr: on a terminal it is redrawn in
// place (at most every 100 ms), elsewhere (logs, CI) a plain line is printed every 10 % and at the end,
// so a log shows progress without flooding. Other messages clear the line first.
import type { CliIO } from './command.js';

/** `[=========>          ]` for a fraction in [0, 1]. */
export function progressBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `${'='.repeat(Math.max(0, filled - 1))}${filled ? (f >= 1 ? '=' : '>') : ''}${' '.repeat(width - filled)}`;
}

/** `  42% [=====>      ] <text>` */
export function progressText(fraction: number, text: string): string {
  return `${`${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`.padStart(4)} [${progressBar(fraction)}] ${text}`;
}

export class ProgressLine {
  private lastDraw = 0;
  private lastPlain = -1;
  private drawn = false;

  constructor(private readonly io: CliIO) {}

  /** Shows the bar at `fraction` with `text`; `final` forces a draw (the last unit of work). */
  update(fraction: number, text: string, final = fraction >= 1): void {
    const line = progressText(fraction, text);
    if (this.io.isTTY) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && !final) return;
      this.lastDraw = now;
      this.io.stderr(`\r${line}\x1b[K`);
      this.drawn = true;
    } else if (fraction - this.lastPlain >= 0.1 || (final && this.lastPlain < 1)) {
      this.lastPlain = final ? 1 : fraction;
      this.io.stderr(`${line}\n`);
    }
  }

  /** A line of its own (a stage, a warning), below the bar. */
  message(text: string): void {
    this.clear();
    this.io.stderr(`${text}\n`);
  }

  /** Removes a bar drawn in place (before the command prints its result). */
  clear(): void {
    if (this.drawn && this.io.isTTY) this.io.stderr('\r\x1b[K');
    this.drawn = false;
  }
}
