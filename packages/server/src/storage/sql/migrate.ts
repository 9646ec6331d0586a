import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/2026-11-22-0001-initial.js';
import * as signingKeys from './migrations/2026-11-23-0001-signing-keys.js';

/** Every migration, by dated name. Listed statically so the built server needs no directory scan. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-22-0001-initial': initial,
  '2026-11-23-0001-signing-keys': signingKeys,
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
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    throw new Error('Database migration failed', { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
