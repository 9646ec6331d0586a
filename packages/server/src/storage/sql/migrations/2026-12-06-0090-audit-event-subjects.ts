import { SqliteAdapter, sql, type Kysely } from 'kysely';

// Audit log filters (issue 17): by OAuth client, by user, by acting admin key or user. The client and the user an
// event is about were only in the details JSON (details.clientId, details.userId); a filter on them would scan the
// JSON of every row, and audit_events grows large. They become columns, written with the event and filled here
// for the events already stored (one pass, at migration time). Each filter gets an index led by its column and
// ordered like the list (occurred_at, id), so a filtered page is one range scan however large the table grows.
// The indexes are partial (non-null rows only): the bulk of the table, authentication failures written behind,
// names no client, user or actor and costs these indexes nothing. Outcome has no index: two values, both common.
const SUBJECT_MAX_LENGTH = 255;

const INDEXES = [
  ['audit_events_client_idx', 'client_id'],
  ['audit_events_user_idx', 'user_id'],
  ['audit_events_actor_user_idx', 'actor_user_id'],
  ['audit_events_actor_key_idx', 'actor_key_id'],
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  await db.schema.alterTable('audit_events').addColumn('client_id', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('user_id', 'text').execute();
  for (const [column, field] of [
    ['client_id', 'clientId'],
    ['user_id', 'userId'],
  ] as const) {
    const value = sqlite
      ? sql`case when json_type(details, ${`$.${field}`}) = 'text' then json_extract(details, ${`$.${field}`}) end`
      : sql`case when jsonb_typeof(details::jsonb -> cast(${field} as text)) = 'string' then details::jsonb ->> cast(${field} as text) end`;
    // The LIKE only skips rows that cannot hold the field; the JSON type check decides.
    await sql`update audit_events set ${sql.ref(column)} = ${value}
      where details like cast(${`%"${field}"%`} as text)`.execute(db);
    await sql`update audit_events set ${sql.ref(column)} = null
      where ${sql.ref(column)} is not null and length(${sql.ref(column)}) > ${SUBJECT_MAX_LENGTH}`.execute(db);
  }
  for (const [name, column] of INDEXES) {
    await db.schema
      .createIndex(name)
      .on('audit_events')
      .columns([column, 'occurred_at', 'id'])
      .where(sql.ref(column), 'is not', null)
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await db.schema.dropIndex(name).execute();
  await db.schema.alterTable('audit_events').dropColumn('user_id').execute();
  await db.schema.alterTable('audit_events').dropColumn('client_id').execute();
}
