/** Plain-text output helpers: aligned tables and readable times (UTC, so output does not depend on the host). */

/** Columns padded to their widest cell, two spaces apart; ends with a newline. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** Epoch seconds → `2025-01-31 12:00Z`; '-' for null. */
export function timestamp(seconds: number | null): string {
  if (seconds === null) return '-';
  return `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}
