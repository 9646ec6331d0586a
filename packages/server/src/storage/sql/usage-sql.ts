import type { DialectName } from './database.js';

/**
 * The statements of the usage store, as text with `?` placeholders: shared by the SQLite background writer (which
 * prepares them in its thread) and the PostgreSQL path (which numbers the placeholders). Every write is set-based:
 * a batch travels as one JSON array of row objects, and each statement reads it whole. The tables are described in
 * migrations/2026-12-06-0040-usage.ts.
 */
export const USAGE_TABLES = { minute: 'usage_minutes', hour: 'usage_hours', day: 'usage_days' } as const;
export const HISTOGRAM_COLUMNS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'] as const;
export const USAGE_COLUMNS = ['period', 'credential_id', 'outcome', 'n', 'latency_n', 'latency_sum_us', 'latency_max_us', ...HISTOGRAM_COLUMNS] as const;
export type UsageRowObject = Record<(typeof USAGE_COLUMNS)[number], number | string>;
const SUMMED = ['n', 'latency_n', 'latency_sum_us', ...HISTOGRAM_COLUMNS] as const;

/** Counts add, the maximum takes the larger: rows from any number of writers sum exactly. */
function onConflictAdd(table: string, dialect: DialectName): string {
  const max = dialect === 'sqlite' ? 'max' : 'greatest';
  const sums = SUMMED.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ');
  return `on conflict (period, credential_id, outcome) do update set ${sums}, latency_max_us = ${max}(${table}.latency_max_us, excluded.latency_max_us)`;
}

/** The rows of the JSON array parameter, as a table `v` with the usage columns. */
function jsonRows(dialect: DialectName): string {
  if (dialect === 'sqlite') {
    return `(select ${USAGE_COLUMNS.map((c) => `json_extract(value, '$.${c}') as ${c}`).join(', ')} from json_each(?)) as v`;
  }
  const types = USAGE_COLUMNS.map((c) => `${c} ${c === 'credential_id' ? 'text' : c === 'period' || c === 'outcome' ? 'integer' : 'bigint'}`);
  return `json_to_recordset(?::json) as v(${types.join(', ')})`;
}

/**
 * Sums `source`'s rows (a table, or the JSON rows) into `target`, `divisor` source periods to one target period,
 * for the rows matching `where`. In key order: concurrent PostgreSQL writers lock the rows in one order.
 */
function sumInto(target: string, source: string, divisor: number, where: string, dialect: DialectName): string {
  const sums = SUMMED.map((c) => `sum(${c})`);
  return `insert into ${target} (period, credential_id, outcome, ${SUMMED.join(', ')}, latency_max_us)
    select period / ${divisor}, credential_id, outcome, ${sums.join(', ')}, max(latency_max_us)
    from ${source} where ${where}
    group by period / ${divisor}, credential_id, outcome
    order by period / ${divisor}, credential_id, outcome
    ${onConflictAdd(target, dialect)}`;
}

const rolledUntil = (resolution: 'hour' | 'day') => `(select rolled_until from usage_rollups where resolution = '${resolution}')`;

/**
 * A flush: the JSON rows (periods in minutes) into the minutes; and into the hours and days already rolled up, the
 * rows of minutes below their watermark (late: a retried flush, an SDK report). Each statement takes the JSON
 * array as its one parameter.
 */
export function addStatements(dialect: DialectName): string[] {
  const rows = jsonRows(dialect);
  return [
    sumInto(USAGE_TABLES.minute, rows, 1, 'true', dialect),
    sumInto(USAGE_TABLES.hour, rows, 60, `period < ${rolledUntil('hour')}`, dialect),
    sumInto(USAGE_TABLES.day, rows, 1_440, `period < ${rolledUntil('day')}`, dialect),
  ];
}

/**
 * A rollup step moves its watermark from `?` (the value the planner read) to `?` only if no one moved it since;
 * the day watermark only up to the hour watermark. Parameters: (to, from) and (to, from, to).
 */
export const MOVE_HOUR_WATERMARK_SQL = `update usage_rollups set rolled_until = ? where resolution = 'hour' and rolled_until = ?`;
export const MOVE_DAY_WATERMARK_SQL = `update usage_rollups set rolled_until = ? where resolution = 'day' and rolled_until = ? and ? <= ${rolledUntil('hour')}`;

/** The rollup's insert-selects, periods [?, ?) of the source (minutes into hours, hours into days). */
export const rollUpHoursSql = (dialect: DialectName) => sumInto(USAGE_TABLES.hour, USAGE_TABLES.minute, 60, 'period >= ? and period < ?', dialect);
export const rollUpDaysSql = (dialect: DialectName) => sumInto(USAGE_TABLES.day, USAGE_TABLES.hour, 24, 'period >= ? and period < ?', dialect);

/** Up to `?` rows of the oldest periods before `?` (the primary key leads with the period). Parameters: (cutoff, limit). */
export function purgeSql(table: string): string {
  return `delete from ${table} where (period, credential_id, outcome) in
    (select period, credential_id, outcome from ${table} where period < ? order by period limit ?)`;
}

/** `?` placeholders as PostgreSQL's $1, $2, ... */
export function numberPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
