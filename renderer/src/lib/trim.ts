// The trim region on the speech timeline. I/O keys, the region's drag handles and the number fields
// all go through these functions, so in ≤ out and both inside the clip always hold.

export interface Trim {
  start: number;
  end: number;
}

/** Shortest trim the pipeline accepts: one second of video at the slowest fps is plenty to reject less. */
export const MIN_TRIM_SECONDS = 0.2;

export function clampTrim(t: Trim, duration: number): Trim {
  const d = Math.max(0, duration);
  let start = Math.min(Math.max(0, t.start), d);
  let end = Math.min(Math.max(0, t.end), d);
  if (end < start) [start, end] = [end, start];
  if (end - start < MIN_TRIM_SECONDS) {
    end = Math.min(d, start + MIN_TRIM_SECONDS);
    start = Math.max(0, end - MIN_TRIM_SECONDS);
  }
  return { start, end };
}

/** The I key: the trim starts at the playhead; if that passes the end, the end moves to the clip end. */
export function setIn(t: Trim, at: number, duration: number): Trim {
  return clampTrim({ start: at, end: at >= t.end ? duration : t.end }, duration);
}

/** The O key: the trim ends at the playhead; if that is before the start, the start moves to 0. */
export function setOut(t: Trim, at: number, duration: number): Trim {
  return clampTrim({ start: at <= t.start ? 0 : t.start, end: at }, duration);
}
