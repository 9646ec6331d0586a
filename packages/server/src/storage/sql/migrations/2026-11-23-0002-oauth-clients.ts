// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull()) // JSON array
    .addColumn('grant_types', 'text', (c) => c.notNull()) // JSON array
    .addColumn('scopes', 'text', (c) => c.notNull()) // JSON array
    .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
    .addColumn('audiences', 'text', (c) => c.notNull()) // JSON array
    .addColumn('default_audience', 'text')
    .addColumn('tenant_id', 'text')
    .addColumn('access_token_ttl_seconds', 'integer')
    .addColumn('secret_hash', 'text')
    .addColumn('secret_prefix', 'text')
    .addColumn('previous_secret_hash', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    // Bumped by every change: updates are conditional on it, so two concurrent PATCHes cannot combine into a
    // state neither of them validated.
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('oauth_clients_created_idx').on('oauth_clients').columns(['created_at', 'id']).execute();
  await db.schema
    .createIndex('oauth_clients_tenant_created_idx')
    .on('oauth_clients')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_clients').execute();
}
