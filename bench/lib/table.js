// Plain-text table for the report: one row per measured scenario.

export const COLUMNS = [
  { key: 'scenario', title: 'scenario' },
  { key: 'reqPerSec', title: 'req/s', align: 'right', format: (v) => Math.round(v).toLocaleString('en-US') },
  { key: 'p50', title: 'p50 ms', align: 'right', format: (v) => v.toFixed(2) },
  { key: 'p99', title: 'p99 ms', align: 'right', format: (v) => v.toFixed(2) },
  { key: 'ratio', title: 'ratio', align: 'right', format: (v) => `${v.toFixed(2)}x` },
  { key: 'target', title: 'target' },
  { key: 'result', title: 'result' },
];

export function formatTable(rows, columns = COLUMNS) {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const value = row[column.key];
      if (value === undefined || value === null) return '-';
      return column.format ? column.format(value) : String(value);
    }),
  );
  const widths = columns.map((column, i) => Math.max(column.title.length, ...cells.map((line) => line[i].length)));
  const pad = (text, i) => (columns[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (values) => values.map(pad).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
