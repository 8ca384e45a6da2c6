// A query result as a plain-text table for the terminal (`medsynth query`).

import type { QueryResult } from './types.ts';

export interface FormatTableOptions {
  /** Rows shown before the rest are summarised in the footer (default 50). */
  maxRows?: number;
  /** Longest cell shown; longer ones are cut and end in "…" (default 40). */
  maxWidth?: number;
}

export function formatTable(result: QueryResult, opts: FormatTableOptions = {}): string {
  const maxRows = opts.maxRows ?? 50;
  const maxWidth = Math.max(opts.maxWidth ?? 40, 2);
  const shown = result.rows.slice(0, maxRows);
  const header = result.columns.map((c) => truncate(c.name, maxWidth));
  const cells = shown.map((row) => result.columns.map((_, i) => truncate(formatCell(row[i]), maxWidth)));
  const numeric = result.columns.map(
    (_, i) => shown.some((row) => isNumber(row[i])) && shown.every((row) => isNumber(row[i]) || row[i] === null),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (row: string[]) => row.map(pad).join(' | ').trimEnd();
  const lines =
    result.columns.length === 0
      ? []
      : [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
  lines.push(footer(result.rows.length, shown.length));
  return lines.join('\n');
}

function footer(total: number, shown: number): string {
  const count = `${total} ${total === 1 ? 'row' : 'rows'}`;
  return shown < total ? `(${count}, ${shown} shown)` : `(${count})`;
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint';
}

function truncate(text: string, maxWidth: number): string {
  return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

/** One line per cell: NULL for null, lists as [a, b], bigints as plain digits, dates in ISO 8601. */
export function formatCell(value: unknown): string {
  return formatValue(value).replace(/\r?\n/g, '\\n');
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')}}`;
  }
  return String(value);
}
