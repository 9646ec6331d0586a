import type { Kysely } from 'kysely';

// Cluster mode: every process polls the API keys and OAuth clients changed in the last minute or so (the fallback
// for lost pub/sub messages while Redis is down or hung). These indexes make that poll read only the changed rows.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('api_keys_updated_at_idx').on('api_keys').column('updated_at').execute();
  await db.schema.createIndex('oauth_clients_updated_at_idx').on('oauth_clients').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_clients_updated_at_idx').execute();
  await db.schema.dropIndex('api_keys_updated_at_idx').execute();
}
