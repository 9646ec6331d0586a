// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

// Dynamic Client Registration (RFC 7591 / 7592): how each client came to be (`admin` or `dynamic`), the hash of a
// dynamic client's registration access token, the address it registered from (the per-address maximum), its
// RFC 7591 descriptive metadata (client_uri, contacts, ...) as JSON, and when it was last used (idle expiry);
// and the initial access tokens that admit a registration.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').addColumn('registration', 'text', (c) => c.notNull().defaultTo('admin')).execute();
  await db.schema.alterTable('oauth_clients').addColumn('registration_access_token_hash', 'text').execute();
  await db.schema.alterTable('oauth_clients').addColumn('registered_address', 'text').execute();
  await db.schema.alterTable('oauth_clients').addColumn('registration_metadata', 'text').execute();
  await db.schema.alterTable('oauth_clients').addColumn('last_used_at', 'bigint').execute();
  await db.schema
    .createIndex('oauth_clients_registration_idx')
    .on('oauth_clients')
    .columns(['registration', 'registered_address', 'created_at'])
    .execute();
  await db.schema
    .createTable('registration_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('display_prefix', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('registration_tokens_created_idx').on('registration_tokens').columns(['created_at', 'id']).execute();
  await db.schema
    .createIndex('registration_tokens_tenant_created_idx')
    .on('registration_tokens')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('registration_tokens').execute();
  await db.schema.dropIndex('oauth_clients_registration_idx').execute();
  for (const column of ['last_used_at', 'registration_metadata', 'registered_address', 'registration_access_token_hash', 'registration']) {
    await db.schema.alterTable('oauth_clients').dropColumn(column).execute();
  }
}
