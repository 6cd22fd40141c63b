// Formatting shared by every screen: times on the timeline, ETAs in the queue, byte sizes in Settings.
// Pure functions, so the node test runner checks them without a DOM.

/** 83.5 → "1:23.5"; the timeline and trim fields show tenths because trims are set by ear. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00.0';
  const tenths = Math.round(seconds * 10);
  const m = Math.floor(tenths / 600);
  const s = (tenths % 600) / 10;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

/** An ETA for people: "about 40 s", "about 3 min", "about 1 h 5 min"; null when unknown. */
export function formatEta(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `about ${min} min`;
  return `about ${Math.floor(min / 60)} h ${min % 60} min`;
}

/** Estimates the remaining time from progress so far: (elapsed / done) × remaining. */
export function estimateEta(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || total <= 0 || done > total || elapsedMs <= 0) return null;
  return ((elapsedMs / 1000) * (total - done)) / done;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.round((done / total) * 100)));
}
