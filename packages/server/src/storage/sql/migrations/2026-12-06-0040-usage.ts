import { SqliteAdapter, sql, type Kysely } from 'kysely';

// Usage counters (issue 16): per credential, per period, per outcome. Three tables of one shape: minutes, hours
// and days since the epoch. The primary key is the only index, led by the period: a flush appends at the end of
// the tree (dense pages), retention deletes a prefix, and a range of periods is one range scan. On SQLite the
// tables are WITHOUT ROWID (the row lives in the key's tree: no second tree). Outcomes are small integer codes;
// h0..h5 are a fixed-bucket latency histogram (bounds frozen in core/usage/usage-outcomes.ts at the time:
// <=100us, <=1ms, <=10ms, <=100ms, <=1s, more). usage_rollups holds, per target resolution, the first minute not
// yet rolled up into it; a rollup moves it in the same transaction as its insert-select.
const TABLES = ['usage_minutes', 'usage_hours', 'usage_days'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  for (const table of TABLES) {
    let create = db.schema
      .createTable(table)
      .addColumn('period', 'integer', (c) => c.notNull())
      .addColumn('credential_id', 'text', (c) => c.notNull())
      .addColumn('outcome', 'integer', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addColumn('latency_n', 'bigint', (c) => c.notNull())
      .addColumn('latency_sum_us', 'bigint', (c) => c.notNull())
      .addColumn('latency_max_us', 'bigint', (c) => c.notNull());
    for (let i = 0; i < 6; i++) create = create.addColumn(`h${i}`, 'bigint', (c) => c.notNull());
    create = create.addPrimaryKeyConstraint(`${table}_pk`, ['period', 'credential_id', 'outcome']);
    if (sqlite) create = create.modifyEnd(sql`without rowid`);
    await create.execute();
  }
  await db.schema
    .createTable('usage_rollups')
    .addColumn('resolution', 'text', (c) => c.primaryKey())
    .addColumn('rolled_until', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('usage_rollups').values([{ resolution: 'day', rolled_until: 0 }, { resolution: 'hour', rolled_until: 0 }]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('usage_rollups').execute();
  for (const table of [...TABLES].reverse()) await db.schema.dropTable(table).execute();
}
