// Small formatting helpers shared by commands: aligned tables for people, one JSON object for
// scripts (`--json`).
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
