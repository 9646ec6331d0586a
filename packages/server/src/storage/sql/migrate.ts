import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/2026-11-22-0001-initial.js';
import * as oauthClients from './migrations/2026-11-23-0002-oauth-clients.js';
import * as oauthGrants from './migrations/2026-11-23-0004-oauth-grants.js';

/** Every migration, by dated name. Listed statically so the built server needs no directory scan. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-22-0001-initial': initial,
  '2026-11-23-0002-oauth-clients': oauthClients,
  '2026-11-23-0004-oauth-grants': oauthGrants,
};

/**
 * Brings the schema up to date. Safe to run from several processes at once (Kysely takes a lock).
 * On PostgreSQL the bookkeeping tables are pinned to the connection's own schema: Kysely otherwise takes a
 * `kysely_migration` table in any schema of the database (another application's, say) for its own.
 */
export async function migrateToLatest(database: Pick<Database, 'db' | 'dialect'>): Promise<string[]> {
  const db = database.db as Kysely<any>;
  const migrationTableSchema =
    database.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: async () => MIGRATIONS } });
  for (let attempt = 1; ; attempt++) {
    const result: MigrationResultSet = await migrator.migrateToLatest();
    if (!result.error) return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely looks for its bookkeeping table by introspecting every schema of the database, checking each by
    // name (has_schema_privilege): a schema another session drops meanwhile fails that query with 3F000
    // (invalid_schema_name) before anything is migrated. Such a race is worth another try; nothing else is.
    if (attempt >= 5 || (result.error as { code?: unknown }).code !== '3F000') {
      throw new Error('Database migration failed', { cause: result.error });
    }
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}
