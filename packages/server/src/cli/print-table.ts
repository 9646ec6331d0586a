/**
 * Readable output of the admin commands: aligned columns, plain text (no ANSI colour, whatever the terminal),
 * timestamps as the API gives them (ISO 8601, UTC), `-` for nothing.
 */

export type Column<T> = [header: string, value: (row: T) => unknown];

/** One cell's text: arrays joined by commas, objects as compact JSON, null and empty as "-". */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map((v) => cell(v)).join(',') : '-';
  if (typeof value === 'object') return Object.keys(value).length ? JSON.stringify(value) : '-';
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

/** A table: a header row, then one row per item, columns padded to their widest cell. */
export function formatTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, value]) => cell(value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** One record as `field  value` lines, in the record's own order (or `fields`' order). */
export function formatRecord(record: Record<string, unknown>, fields: readonly string[] = Object.keys(record)): string {
  const shown = fields.filter((field) => field in record);
  const width = Math.max(0, ...shown.map((field) => field.length));
  return shown.map((field) => `${field.padEnd(width)}  ${cell(record[field])}`.trimEnd()).join('\n') + '\n';
}
