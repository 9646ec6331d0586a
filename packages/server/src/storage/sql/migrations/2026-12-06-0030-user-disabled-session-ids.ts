import { sql, type Kysely } from 'kysely';

// Users can be disabled (kept, but unable to sign in), and login sessions get a public id so that an
// administrator can list and end them without the session's hash (the cookie's lookup key) ever leaving the server.
// Sessions made before this migration get an id derived from their hash, which is never answered in full.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
  await db.schema.alterTable('oauth_sessions').addColumn('id', 'text').execute();
  await sql`update oauth_sessions set id = 'ses_' || substr(hash, 1, 22) where id is null`.execute(db);
  await db.schema.createIndex('oauth_sessions_id_idx').on('oauth_sessions').column('id').unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_sessions_id_idx').execute();
  await db.schema.alterTable('oauth_sessions').dropColumn('id').execute();
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
}
