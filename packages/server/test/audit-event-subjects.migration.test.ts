import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/storage/sql/migrate.js';
import * as subjects from '../src/storage/sql/migrations/2026-12-06-0090-audit-event-subjects.js';
import { dialects, openTestDatabase } from './helpers/databases.js';

/** Events stored before migration 2026-12-06-0090 name their client and user only in details: it fills the columns. */
describe.each(dialects)('migration 2026-12-06-0090-audit-event-subjects (%s)', (dialect) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('copies details.clientId and details.userId of stored events into their columns, and only id strings', async () => {
    const database = await openTestDatabase(dialect, 'subjects-migration', cleanups);
    await migrateToLatest(database);
    const db = database.db as unknown as Kysely<any>;
    await subjects.down(db);

    const details: Array<[id: string, details: unknown]> = [
      ['evt_1', { clientId: 'cli_a', userId: 'usr_a', grantType: 'authorization_code' }],
      ['evt_2', { clientId: 'cli_b' }],
      ['evt_3', { userId: 'usr_b', fields: ['name'] }],
      ['evt_4', { clientId: 42, userId: null }],
      ['evt_5', { clientId: `cli_${'x'.repeat(300)}` }],
      ['evt_6', { nested: { clientId: 'cli_c' }, note: '"clientId"' }],
      ['evt_7', null],
    ];
    await db
      .insertInto('audit_events')
      .values(details.map(([id, d], i) => ({ id, type: 'oauth.token', occurred_at: i, outcome: 'success', details: d === null ? null : JSON.stringify(d) })))
      .execute();

    await subjects.up(db);
    const rows = await db.selectFrom('audit_events').select(['id', 'client_id', 'user_id', 'details']).orderBy('id').execute();
    expect(rows.map((r) => [r.id, r.client_id, r.user_id])).toEqual([
      ['evt_1', 'cli_a', 'usr_a'],
      ['evt_2', 'cli_b', null],
      ['evt_3', null, 'usr_b'],
      ['evt_4', null, null],
      ['evt_5', null, null],
      ['evt_6', null, null],
      ['evt_7', null, null],
    ]);
    // The details themselves are untouched.
    expect(rows.map((r) => (r.details === null ? null : JSON.parse(r.details)))).toEqual(details.map(([, d]) => d));
    // The indexes exist (the filters read them).
    const indexes =
      dialect === 'postgres'
        ? (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'audit_events' and schemaname = current_schema()`.execute(db)).rows
        : (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_events'`.execute(db)).rows;
    expect(indexes.map((r) => r.name)).toEqual(
      expect.arrayContaining(['audit_events_client_idx', 'audit_events_user_idx', 'audit_events_actor_user_idx', 'audit_events_actor_key_idx']),
    );
  });
});
