// HTTP Range parsing for the media protocol. Electron's net.fetch('file://…') ignores Range and answers
// 200 with the whole file (electron#38749), so video and audio could not seek; the protocol answers
// 206 itself from this. Single ranges only: media elements never ask for more than one.

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive byte offsets within a file of `size` bytes. */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return { kind: 'full' }; // multi-range or garbage: RFC 9110 lets a server ignore Range
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'full' };
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

export function contentRange(r: { start: number; end: number }, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}
