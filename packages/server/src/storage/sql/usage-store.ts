import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import { mergeCounts } from '../../core/usage/usage-accumulator.js';
import { MINUTE_MS } from '../../core/usage/usage-outcomes.js';
import { planRead, planRollUp, RESOLUTION_MINUTES, type UsageWatermarks } from '../../core/usage/usage-periods.js';
import type { UsageBatch, UsageCell, UsageQuery, UsageResolution, UsageSeriesRow, UsageStore, UsageTotalRow } from '../stores.js';
import type { Database } from './database.js';
import type { Schema } from './schema.js';
import {
  addStatements,
  HISTOGRAM_COLUMNS,
  MOVE_DAY_WATERMARK_SQL,
  MOVE_HOUR_WATERMARK_SQL,
  numberPlaceholders,
  purgeSql,
  rollUpDaysSql,
  rollUpHoursSql,
  USAGE_TABLES,
  type UsageRowObject,
} from './usage-sql.js';

const toRowObject = (cell: UsageCell): UsageRowObject => {
  const row: UsageRowObject = {
    period: cell.minute,
    credential_id: cell.credentialId,
    outcome: cell.outcome,
    n: cell.count,
    latency_n: cell.latencyCount,
    latency_sum_us: cell.latencySumUs,
    latency_max_us: cell.latencyMaxUs,
  } as UsageRowObject;
  HISTOGRAM_COLUMNS.forEach((column, i) => (row[column] = cell.histogram[i] ?? 0));
  return row;
};

/** The newest last-used time per key, in ms, in id order (concurrent writers lock rows in one order). */
const lastUsedEntries = (batch: UsageBatch): Array<[string, number]> =>
  batch.lastUsed.map(([id, minute]): [string, number] => [id, minute * MINUTE_MS]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

interface SummedRow {
  p: number;
  outcome: number;
  n: number;
  latency_n: number;
  latency_sum_us: number;
  latency_max_us: number;
  h0: number;
  h1: number;
  h2: number;
  h3: number;
  h4: number;
  h5: number;
}

/**
 * Usage counters on SQLite and PostgreSQL. Concurrency: a flush holds a share lock on the watermark rows (PostgreSQL;
 * SQLite serializes writers) while it adds, and a rollup an exclusive one while it moves a watermark and sums what
 * lies below it, so a minute is added either before it is rolled up (and the rollup sums it) or after (and the
 * flush adds it into the hour and day too): never both, never neither. On SQLite the writes run in the background
 * writer's thread.
 */
export class SqlUsageStore implements UsageStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async add(batch: UsageBatch): Promise<void> {
    if (batch.cells.length === 0 && batch.lastUsed.length === 0) return;
    const rows = batch.cells.length > 0 ? JSON.stringify(batch.cells.map(toRowObject)) : null;
    const lastUsed = lastUsedEntries(batch);
    if (this.database.backgroundWriter) return this.database.backgroundWriter.addUsage(rows, lastUsed);
    await this.db.transaction().execute(async (trx) => {
      await sql`select resolution from usage_rollups order by resolution for share`.execute(trx);
      if (rows !== null) for (const statement of addStatements('postgres')) await raw(trx, statement, [rows]);
      if (lastUsed.length > 0) {
        const json = JSON.stringify(lastUsed.map(([id, at]) => ({ id, at })));
        await sql`update api_keys as k set last_used_at = v.at
          from json_to_recordset(${json}::json) as v(id text, at bigint)
          where k.id = v.id and (k.last_used_at is null or k.last_used_at < v.at)`.execute(trx);
        // OAuth clients (client_credentials) too: a dynamic client's last use decides its idle expiry.
        await sql`update oauth_clients as c set last_used_at = v.at
          from json_to_recordset(${json}::json) as v(id text, at bigint)
          where c.id = v.id and (c.last_used_at is null or c.last_used_at < v.at)`.execute(trx);
      }
    });
  }

  async rollUp(nowMinute: number): Promise<void> {
    const plan = planRollUp(await watermarks(this.db), nowMinute);
    if (!plan.hour && !plan.day) return;
    if (this.database.backgroundWriter) return this.database.backgroundWriter.rollUpUsage(plan);
    await this.db.transaction().execute(async (trx) => {
      // Both rows, in the order flushes take them: no deadlock with a flush.
      await sql`select resolution from usage_rollups order by resolution for update`.execute(trx);
      const { hour, day } = plan;
      if (hour && (await raw(trx, MOVE_HOUR_WATERMARK_SQL, [hour.to, hour.from])) === 1) {
        await raw(trx, rollUpHoursSql('postgres'), [hour.from, hour.to]);
      }
      if (day && (await raw(trx, MOVE_DAY_WATERMARK_SQL, [day.to, day.from, day.to])) === 1) {
        await raw(trx, rollUpDaysSql('postgres'), [day.from / 60, day.to / 60]);
      }
    });
  }

  async purge(resolution: UsageResolution, cutoff: number, limit: number): Promise<number> {
    const marks = await watermarks(this.db);
    // Never rows not yet rolled up into the next resolution (the watermark only moves forward: a stale read is safe).
    const cutoffMinute = Math.min(Math.floor(cutoff / MINUTE_MS), resolution === 'minute' ? marks.hour : resolution === 'hour' ? marks.day : Infinity);
    const cutoffPeriod = Math.floor(cutoffMinute / RESOLUTION_MINUTES[resolution]);
    const table = USAGE_TABLES[resolution];
    if (this.database.backgroundWriter) return this.database.backgroundWriter.purgeUsage(table, cutoffPeriod, limit);
    return raw(this.db, purgeSql(table), [cutoffPeriod, limit]);
  }

  async series(query: UsageQuery): Promise<UsageSeriesRow[]> {
    const unit = RESOLUTION_MINUTES[query.resolution];
    const merged = new Map<string, UsageSeriesRow>();
    await this.#read(query, async (trx, part, filter) => {
      const { rows } = await sql<SummedRow>`select period / ${sql.raw(String(part.divisor))} as p, outcome,
          cast(sum(n) as bigint) as n, cast(sum(latency_n) as bigint) as latency_n, cast(sum(latency_sum_us) as bigint) as latency_sum_us,
          max(latency_max_us) as latency_max_us, ${sql.raw(HISTOGRAM_COLUMNS.map((c) => `cast(sum(${c}) as bigint) as ${c}`).join(', '))}
        from ${sql.table(USAGE_TABLES[part.source])}
        where period >= ${part.fromPeriod} and period < ${part.toPeriod} ${filter}
        group by period / ${sql.raw(String(part.divisor))}, outcome`.execute(trx);
      for (const row of rows) {
        const p = Number(row.p);
        const found = merged.get(`${p}:${row.outcome}`);
        const counts = {
          count: Number(row.n),
          latencyCount: Number(row.latency_n),
          latencySumUs: Number(row.latency_sum_us),
          latencyMaxUs: Number(row.latency_max_us),
          histogram: HISTOGRAM_COLUMNS.map((c) => Number(row[c])),
        };
        if (found) mergeCounts(found, counts);
        else merged.set(`${p}:${row.outcome}`, { startMinute: p * unit, outcome: Number(row.outcome), ...counts });
      }
    });
    return [...merged.values()].sort((a, b) => a.startMinute - b.startMinute || a.outcome - b.outcome);
  }

  async totals(query: UsageQuery): Promise<UsageTotalRow[]> {
    const merged = new Map<string, UsageTotalRow>();
    await this.#read(query, async (trx, part, filter) => {
      const { rows } = await sql<{ credential_id: string; outcome: number; n: number }>`select credential_id, outcome, cast(sum(n) as bigint) as n
        from ${sql.table(USAGE_TABLES[part.source])}
        where period >= ${part.fromPeriod} and period < ${part.toPeriod} ${filter}
        group by credential_id, outcome`.execute(trx);
      for (const row of rows) {
        const key = `${row.credential_id}:${row.outcome}`;
        const found = merged.get(key);
        if (found) found.count += Number(row.n);
        else merged.set(key, { credentialId: row.credential_id, outcome: Number(row.outcome), count: Number(row.n) });
      }
    });
    return [...merged.values()];
  }

  /** Reads every part of a query in one snapshot (the watermarks and the tables as of one moment). */
  async #read(
    query: UsageQuery,
    readPart: (trx: Transaction<Schema>, part: ReturnType<typeof planRead>[number], filter: ReturnType<typeof sql>) => Promise<void>,
  ): Promise<void> {
    let filter = sql``;
    if (query.credentialId !== undefined) filter = sql`and credential_id = ${query.credentialId}`;
    if (query.tenantId !== undefined) {
      filter = sql`${filter} and credential_id in (select id from api_keys where tenant_id = ${query.tenantId}
        union all select id from oauth_clients where tenant_id = ${query.tenantId})`;
    }
    let transaction = this.db.transaction();
    if (this.database.dialect === 'postgres') transaction = transaction.setIsolationLevel('repeatable read');
    await transaction.execute(async (trx) => {
      const parts = planRead(query.resolution, query.fromMinute, query.toMinute, await watermarks(trx));
      for (const part of parts) await readPart(trx, part, filter);
    });
  }
}

async function watermarks(db: Kysely<Schema>): Promise<UsageWatermarks> {
  const { rows } = await sql<{ resolution: string; rolled_until: number }>`select resolution, rolled_until from usage_rollups`.execute(db);
  const marks: UsageWatermarks = { hour: 0, day: 0 };
  for (const row of rows) if (row.resolution === 'hour' || row.resolution === 'day') marks[row.resolution] = Number(row.rolled_until);
  return marks;
}

/** Runs a statement of usage-sql.ts on PostgreSQL; the rows it changed. */
async function raw(db: Kysely<Schema>, text: string, parameters: unknown[]): Promise<number> {
  const result = await db.executeQuery(CompiledQuery.raw(numberPlaceholders(text), parameters));
  return Number(result.numAffectedRows ?? 0n);
}
